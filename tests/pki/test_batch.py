from __future__ import annotations

import csv
import multiprocessing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from pki import audit
from pki.batch import UserRow, open_batch, read_users_csv, shared_password
from pki.ca import CreatedCA
from pki.cli import app
from pki.errors import InputError, PassphraseError, WriteError
from pki.home import PkiHome
from pki.inventory import list_certs
from tests.pki.conftest import PASSPHRASE, PASSWORD, mode

GOOD_AND_BAD = (
    "full_name,email,org_unit\n"
    '"Doe, Jane",jane@example.org,S4\n'
    "José Núñez,,\n"
    "Bad Email,not-an-email,\n"
    ",,\n"
    'Smith + "Jr",,S1\n'
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_users_csv(tmp_path: Path) -> None:
    rows = read_users_csv(write(tmp_path, '\ufefffull_name\nAlice\n"Doe, Jane"\n'))
    assert [(r.line, r.full_name, r.email, r.org_unit) for r in rows] == [
        (2, "Alice", None, None),
        (3, "Doe, Jane", None, None),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,email\nAlice,a@b\n", "CSV: {path} has no full_name column in its header row."),
        ("full_name,phone\nAlice,1\n", "CSV: Unknown column(s) phone in {path}."),
        ("full_name\n", "CSV: {path} has no rows."),
    ],
)
def test_read_users_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_users_csv(path)
    assert str(err.value) == message.format(path=path)


def test_read_users_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(b"full_name\nJos\xe9\n")
    with pytest.raises(InputError) as err:
        read_users_csv(path)
    assert str(err.value).startswith(f"CSV: {path} is not a UTF-8 CSV file (")


def test_batch_cli_reports_bad_rows_and_issues_the_rest(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    pp = tmp_path / "pp"
    pp.write_bytes(PASSPHRASE)
    out_dir = tmp_path / "out"
    argv = ["--home", str(home.root), "issue-user", "--from", str(write(tmp_path, GOOD_AND_BAD))]
    result = CliRunner().invoke(
        app, [*argv, "--out-dir", str(out_dir), "--passphrase-file", str(pp)]
    )
    assert result.exit_code == 1
    assert "line 4: email: 'not-an-email' is not an ASCII email address.\n" in result.stderr
    assert "line 5: full_name: Must not be empty.\n" in result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Issued 3 of 5 users into {out_dir}; 2 row(s) failed."
    sheet = Path(lines[1].removeprefix("Passwords (0600, hand each over apart): "))
    assert mode(sheet) == 0o600
    with sheet.open(newline="", encoding="utf-8") as fh:
        entries = list(csv.DictReader(fh))
    assert [e["full_name"] for e in entries] == ["Doe, Jane", "José Núñez", 'Smith + "Jr"']
    users = {r.serial: r for r in list_certs(home, kind="user")}
    assert sorted(users) == sorted(e["serial"] for e in entries)
    for entry in entries:
        p12 = Path(entry["p12"])
        assert p12.parent == out_dir
        bundle = pkcs12.load_pkcs12(p12.read_bytes(), entry["password"].encode())
        assert bundle.cert is not None
        assert bundle.cert.friendly_name == entry["full_name"].encode()
    assert len({e["password"] for e in entries}) == 3


def test_batch_cli_shared_password_file(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    pp, pw = tmp_path / "pp", tmp_path / "pw"
    pp.write_bytes(PASSPHRASE)
    pw.write_bytes(PASSWORD + b"\n")
    csv_path = write(tmp_path, "full_name\nAlice\nBob\n")
    result = CliRunner().invoke(
        app,
        [
            "--home",
            str(home.root),
            "issue-user",
            "--from",
            str(csv_path),
            "--legacy",
            "--passphrase-file",
            str(pp),
            "--password-file",
            str(pw),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Issued 2 of 2 users into {home.users_dir}; 0 row(s) failed.\n"
    p12s = sorted(home.users_dir.glob("*.p12"))
    assert len(p12s) == 2
    for p12 in p12s:
        assert pkcs12.load_pkcs12(p12.read_bytes(), PASSWORD).key is not None
    assert list(home.users_dir.glob("passwords-*.csv")) == []


def test_generated_password_is_recorded_before_the_row_commits(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    """A sheet that cannot record (as when the process dies there) leaves no indexed user, and
    the batch stops with one line that says what to do."""
    out = tmp_path / "out"
    rows = [UserRow(2, "Doe, Jane", None, None), UserRow(3, "Next", None, None)]
    with open_batch(home, rows, passphrase=PASSPHRASE, out_dir=out) as batch:
        assert batch.sheet is not None
        batch.sheet.close()  # every add() now fails
        with pytest.raises(WriteError) as err:
            next(iter(batch))
    assert str(err.value) == (
        f"passwords: Cannot write {batch.sheet_path} (I/O operation on closed file); the batch "
        "stopped at line 2 with 0 of 2 users issued: fix that, then issue the rows from line 2 "
        "on again."
    )
    assert list_certs(home, kind="user") == []
    assert list(out.glob("*.p12")) == []  # the .p12 of the unrecorded row is removed again
    assert sorted(p.name for p in home.issued_dir.iterdir()) == [f"{ca.info.serial}.pem"]


def test_unwritable_out_dir_stops_the_batch_with_one_line(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    pp, pw = tmp_path / "pp", tmp_path / "pw"
    pp.write_bytes(PASSPHRASE)
    pw.write_bytes(PASSWORD + b"\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the directory should go")  # fails even for root
    out = blocker / "out"
    csv_path = write(tmp_path, "full_name\nAlice\nBob\n")
    argv = ["--home", str(home.root), "issue-user", "--from", str(csv_path), "--out-dir", str(out)]
    result = CliRunner().invoke(
        app, [*argv, "--passphrase-file", str(pp), "--password-file", str(pw)]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"batch: Cannot write {out} (Not a directory); the batch stopped at line 2 with 0 of "
        "2 users issued: fix that, then issue the rows from line 2 on again."
    )
    assert "Traceback" not in result.stderr
    assert list_certs(home, kind="user") == []
    assert sorted(p.name for p in home.issued_dir.iterdir()) == [f"{ca.info.serial}.pem"]


def test_unwritable_sheet_directory_is_one_line(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the directory should go")
    out = blocker / "out"
    with pytest.raises(WriteError) as err:
        open_batch(home, [UserRow(2, "Jane", None, None)], passphrase=PASSPHRASE, out_dir=out)
    message = str(err.value)
    assert message.startswith(f"passwords: Cannot create {out}/passwords-")
    assert message.endswith(
        f".csv (Not a directory); make {out} writable or choose another --out-dir."
    )


def test_shared_password_from_env_and_its_check(
    home: PkiHome, ca: CreatedCA, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    assert shared_password(None) is None
    monkeypatch.setenv("PKI_P12_PASSWORD", "")
    assert shared_password(None) is None  # empty means unset
    monkeypatch.setenv("PKI_P12_PASSWORD", "short")
    with pytest.raises(PassphraseError) as err:
        shared_password(None)
    assert str(err.value) == "password: Too short; use at least 8 characters."
    monkeypatch.setenv("PKI_P12_PASSWORD", PASSWORD.decode())
    rows = [UserRow(2, "Jane", None, None)]
    with open_batch(home, rows, passphrase=PASSPHRASE) as batch:
        [result] = list(batch)
    assert batch.sheet_path is None and result.password is None
    assert result.issued is not None and result.issued.p12_path is not None
    assert pkcs12.load_pkcs12(result.issued.p12_path.read_bytes(), PASSWORD).key is not None


def test_wrong_passphrase_leaves_no_sheet(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    out = tmp_path / "out"
    with pytest.raises(PassphraseError):
        open_batch(
            home, [UserRow(2, "Jane", None, None)], passphrase=b"wrong passphrase", out_dir=out
        )
    assert not out.exists()


def test_a_stopped_batch_names_the_sheet_of_the_users_it_issued(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    rows = [UserRow(2, "First", None, None), UserRow(3, "Second", None, None)]
    with open_batch(home, rows, passphrase=PASSPHRASE, out_dir=tmp_path / "out") as batch:
        results = iter(batch)
        first = next(results)
        assert first.issued is not None and first.password is not None
        assert batch.sheet is not None
        batch.sheet.close()
        with pytest.raises(WriteError) as err:
            next(results)
    assert str(err.value) == (
        f"passwords: Cannot write {batch.sheet_path} (I/O operation on closed file); the batch "
        f"stopped at line 3 with 1 of 2 users issued (their passwords are in {batch.sheet_path}): "
        "fix that, then issue the rows from line 3 on again."
    )
    assert [r.name for r in list_certs(home, kind="user")] == ["First"]


ROWS_WITH_MISTAKES = [
    UserRow(n + 2, name, email, None)
    for n, (name, email) in enumerate(
        [(f"Sailor {i}", None) for i in range(5)]
        + [("Bad Email", "not-an-email"), ("", None)]
        + [(f"Sailor {i}", f"s{i}@example.org") for i in range(5, 10)]
    )
]


@pytest.mark.parametrize("workers", [1, 3])
def test_worker_processes_give_the_same_batch_in_row_order(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None, workers: int
) -> None:
    out = tmp_path / "out"
    with open_batch(
        home, ROWS_WITH_MISTAKES, passphrase=PASSPHRASE, out_dir=out, workers=workers
    ) as batch:
        results = list(batch)
    assert [r.row.line for r in results] == [row.line for row in ROWS_WITH_MISTAKES]
    assert [r.error for r in results if r.error] == [
        "line 7: email: 'not-an-email' is not an ASCII email address.",
        "line 8: full_name: Must not be empty.",
    ]
    issued = [r.issued for r in results if r.issued is not None]
    assert batch.issued == len(issued) == 10
    users = list_certs(home, kind="user")
    assert [u.serial for u in users] == [i.info.serial for i in issued]  # committed in row order
    assert [e.op for e in audit.entries(home)][-10:] == ["issue-user"] * 10
    audit.verify(home)
    assert batch.sheet_path is not None
    with batch.sheet_path.open(newline="", encoding="utf-8") as fh:
        sheet = list(csv.DictReader(fh))
    assert [e["serial"] for e in sheet] == [i.info.serial for i in issued]
    for entry in sheet:
        bundle = pkcs12.load_pkcs12(Path(entry["p12"]).read_bytes(), entry["password"].encode())
        assert bundle.cert is not None and bundle.cert.friendly_name == entry["full_name"].encode()
    assert multiprocessing.active_children() == []


def test_a_parallel_batch_that_stops_leaves_no_worker_and_no_unrecorded_user(
    home: PkiHome, ca: CreatedCA, tmp_path: Path, clean_env: None
) -> None:
    rows = [UserRow(i + 2, f"Crew {i}", None, None) for i in range(12)]
    with open_batch(home, rows, passphrase=PASSPHRASE, out_dir=tmp_path / "out", workers=2) as b:
        results = iter(b)
        assert [next(results).issued is not None for _ in range(3)] == [True] * 3
        assert b.sheet is not None
        b.sheet.close()
        with pytest.raises(WriteError) as err:
            next(results)
    assert "the batch stopped at line 5 with 3 of 12 users issued" in str(err.value)
    assert [r.name for r in list_certs(home, kind="user")] == ["Crew 0", "Crew 1", "Crew 2"]
    assert len(list((tmp_path / "out").glob("*.p12"))) == 3
    assert multiprocessing.active_children() == []
