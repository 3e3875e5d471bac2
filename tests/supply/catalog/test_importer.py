"""Catalog CSV import: format, validation with line numbers, all-or-nothing, re-runs, command."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from supply.catalog.importer import CatalogImportError, import_catalog
from supply.catalog.models import Item
from supply.catalog.reference import demo_catalog_path, units_of_issue

pytestmark = pytest.mark.django_db

HEADER = "NSN,rep_office,common_name,Description,Price,UI,AAC\n"


def write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_quoted_fields_with_commas_quotes_and_newlines(tmp_path, bom):
    path = write(
        tmp_path,
        HEADER
        + '6505013324567,S9M,"Bandage, elastic","4 in., ""non-sterile""\nsecond line",3.45,EA,D\n'
        + "8465-01-465-8410,S9T,Canteen,Plastic canteen,6,ea,z\n",
        bom=bom,
    )
    result = import_catalog(path)
    assert (result.created, result.updated, result.skipped) == (2, 0, 0)
    bandage = Item.objects.get(nsn="6505013324567")
    assert bandage.common_name == "Bandage, elastic"
    assert bandage.description == '4 in., "non-sterile"\nsecond line'
    assert (bandage.fsc, bandage.price, bandage.unit_of_issue_id) == ("6505", Decimal("3.45"), "EA")
    canteen = Item.objects.get(nsn="8465014658410")
    assert (canteen.unit_of_issue_id, canteen.aac) == ("EA", "Z")


def test_rerun_updates_instead_of_duplicating(tmp_path):
    import_catalog(write(tmp_path, HEADER + "6505013324567,S9M,Bandage,,3.45,EA,D\n"))
    result = import_catalog(write(tmp_path, HEADER + "6505013324567,S9M,Bandage v2,,4.00,BX,\n"))
    assert (result.created, result.updated) == (0, 1)
    item = Item.objects.get()
    assert (item.common_name, item.price, item.unit_of_issue_id, item.aac) == (
        "Bandage v2",
        Decimal("4.00"),
        "BX",
        "",
    )


BAD_ROWS = HEADER + (
    "6505013324567,S9M,Good row,,1.00,EA,D\n"
    "650501332456,S9M,Short NSN,,1.00,EA,D\n"
    "65050133245AB,S9M,Letters,,1.00,EA,D\n"
    '"6505013324568",S9M,"multi\nline name",,-1,QQ,DD\n'
    "6505013324569,S9M,,,1.005,EA,D\n"
    "6505013324570,S9M,Too few\n"
    "6505013324567,S9M,Repeat,,1.00,EA,D\n"
)
BAD_ROW_REPORT = [
    "line 3: NSN '650501332456' is not 13 digits",
    "line 4: NSN '65050133245AB' is not 13 digits",
    "line 5: Price '-1' is not from 0 to 9999999999.99; UI 'QQ' is not a known unit of issue; "
    "AAC 'DD' is not one letter",
    "line 7: common_name is empty; Price '1.005' has more than 2 decimal places",
    "line 8: expected 7 fields, found 3",
    "line 9: NSN 6505013324567 repeats line 2",
]


def test_bad_rows_are_all_reported_with_line_numbers_and_nothing_imported(tmp_path):
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(write(tmp_path, BAD_ROWS))
    assert [str(e) for e in caught.value.errors] == BAD_ROW_REPORT
    assert caught.value.message == (
        "catalog: 6 bad row(s); nothing imported (--skip-invalid imports the good rows)."
    )
    assert Item.objects.count() == 0


def test_skip_invalid_imports_the_good_rows(tmp_path):
    result = import_catalog(write(tmp_path, BAD_ROWS), skip_invalid=True)
    assert (result.created, result.skipped) == (1, 6)
    assert list(Item.objects.values_list("nsn", flat=True)) == ["6505013324567"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"",
            "catalog: The file is empty; it needs the header "
            "NSN,rep_office,common_name,Description,Price,UI,AAC.",
        ),
        (
            b"nsn,name\n1,2\n",
            "line 1: The header must be NSN,rep_office,common_name,Description,Price,UI,AAC.",
        ),
        (
            HEADER.encode() + b'6505013324567,S9M,"unterminated,,1,EA,D\n',
            "line 2: Malformed CSV (unexpected end of data).",
        ),
        (
            HEADER.encode() + b'6505013324567,S9M,Ok,,1,EA,D\n6505013324568,S9M,"a"b,,1,EA,D\n',
            "line 3: Malformed CSV (',' expected after '\"').",
        ),
        (
            HEADER.encode() + b"6505013324567,S9M,Caf\xe9,,1,EA,D\n",
            "line 2: Not UTF-8 text; save the file as UTF-8.",
        ),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "catalog.csv"
    path.write_bytes(content)
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(path)
    assert caught.value.message == message
    assert Item.objects.count() == 0


def test_command_reports_each_bad_row_on_stderr(tmp_path):
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import-catalog", str(write(tmp_path, BAD_ROWS)), stderr=err)
    assert (
        str(caught.value)
        == "catalog: 6 bad row(s); nothing imported (--skip-invalid imports the good rows)."
    )
    assert err.getvalue().splitlines() == BAD_ROW_REPORT


def test_command_skip_invalid_and_summary(tmp_path):
    out, err = StringIO(), StringIO()
    call_command(
        "import-catalog", str(write(tmp_path, BAD_ROWS)), "--skip-invalid", stdout=out, stderr=err
    )
    assert out.getvalue() == "imported 1 item(s): 1 new, 0 updated, 6 skipped.\n"
    assert err.getvalue().splitlines() == [f"skipped {line}" for line in BAD_ROW_REPORT]


def test_command_missing_file(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("import-catalog", str(tmp_path / "nope.csv"))
    assert (
        str(caught.value) == f"{tmp_path / 'nope.csv'}: Cannot read it (No such file or directory)."
    )


def test_shipped_demo_catalog_imports_cleanly():
    result = import_catalog(Path(str(demo_catalog_path())))
    assert result.skipped == 0
    assert result.created == Item.objects.count() >= 10


def test_units_of_issue_table_is_loaded_by_the_migration():
    from supply.catalog.models import UnitOfIssue

    codes = set(UnitOfIssue.objects.values_list("code", flat=True))
    assert {"EA", "DZ", "BX", "PG", "SE", "KT", "RO", "GL", "LB", "PR"} <= codes
    assert codes == {code for code, _ in units_of_issue()}


NUL_ROWS = HEADER + (
    "6505013324567,S9M,Good row,,1.00,EA,D\n"
    "6505013324568,S9M,Nul\x00name,,1.00,EA,D\n"
    "6505013324569,S9M,Fine,desc\x00,1.00,EA,\x00\n"
    "6505013324570,S9M,Also good,,2.00,EA,D\n"
)
NUL_REPORT = [
    "line 3: common_name contains a NUL byte",
    "line 4: Description contains a NUL byte; AAC contains a NUL byte",
]


def test_a_nul_byte_is_a_row_error_with_its_line(tmp_path):
    """On SQLite a NUL was stored; on PostgreSQL the import died with a database error naming no
    line, and --skip-invalid then dropped every good row."""
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import-catalog", str(write(tmp_path, NUL_ROWS)), stderr=err)
    assert str(caught.value) == (
        "catalog: 2 bad row(s); nothing imported (--skip-invalid imports the good rows)."
    )
    assert err.getvalue().splitlines() == NUL_REPORT
    assert Item.objects.count() == 0
    result = import_catalog(write(tmp_path, NUL_ROWS), skip_invalid=True)
    assert (result.created, [str(e) for e in result.errors]) == (2, NUL_REPORT)
    assert sorted(Item.objects.values_list("nsn", flat=True)) == ["6505013324567", "6505013324570"]


def test_the_import_keeps_the_unit_of_issue_the_ledger_counted_in(site, tmp_path):
    site.receive(3)  # 6505013324567 counted in EA
    rows = HEADER + (
        "6135009857845,S9M,Battery,,1.10,BX,\n"  # never counted: may change
        "6505013324567,S9M,Bandage,,3.45,BX,\n"
    )
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(write(tmp_path, rows))
    assert [str(e) for e in caught.value.errors] == [
        "line 3: UI cannot change from EA to BX: stock of 6505013324567 has been recorded in EA; "
        "create a new item"
    ]
    result = import_catalog(write(tmp_path, rows), skip_invalid=True)
    assert (result.created, result.updated, result.skipped) == (0, 1, 1)
    assert dict(Item.objects.values_list("nsn", "unit_of_issue_id")) == {
        "6135009857845": "BX",
        "6505013324567": "EA",
    }
