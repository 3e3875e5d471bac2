from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from pki.batch import PasswordSheet, UserRow, issue_users, read_users_csv
from pki.ca import CreatedCA
from pki.cli import app
from pki.errors import InputError
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
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    """A sheet that cannot record (as when the process dies there) leaves no indexed user."""
    sheet = PasswordSheet(tmp_path / "out" / "passwords.csv")
    sheet.close()  # every add() now fails
    rows = [UserRow(2, "Doe, Jane", None, None)]
    results = issue_users(
        home, rows, passphrase=PASSPHRASE, password=None, out_dir=tmp_path / "out", sheet=sheet
    )
    with pytest.raises(ValueError, match="closed file"):
        next(results)
    assert list_certs(home, kind="user") == []
