from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest

import pki.files
from pki.ca import CreatedCA, write_crl
from pki.crl import revoke
from pki.errors import PkiError
from pki.files import atomic_write
from pki.home import PkiHome, default_home
from pki.issue import UserRequest, issue_user
from tests.pki.conftest import PASSPHRASE, PASSWORD, mode


def test_default_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PKI_HOME", str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"
    monkeypatch.delenv("PKI_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_home() == tmp_path / "xdg" / "tactical-edge" / "pki"


def test_atomic_write_modes_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert mode(target) == 0o600
    assert mode(target.parent) == mode(target.parent.parent) == 0o700
    assert os.listdir(target.parent) == ["file"]


def test_atomic_write_exclusive(tmp_path: Path) -> None:
    target = tmp_path / "file"
    atomic_write(target, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["file"]


def test_existing_home_parent_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    PkiHome(tmp_path / "pki").prepare()
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "pki") == 0o700


def test_index_survives_an_interrupted_transaction(home: PkiHome, ca: CreatedCA) -> None:
    user = issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    with home.index() as index:
        with pytest.raises(RuntimeError), index.write():
            index.mark_revoked(user.info.serial, user.info.not_before, "keyCompromise")
            raise RuntimeError("killed")
        [row] = index.rows("WHERE serial = ?", (user.info.serial,))
    assert row.status == "valid"
    # The CHECK constraint keeps status and revocation time consistent even for raw SQL.
    db = sqlite3.connect(home.index_path)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "UPDATE certificates SET status = 'revoked' WHERE serial = ?", (user.info.serial,)
        )
    db.close()


def test_damaged_index_and_crl_are_one_line_errors(home: PkiHome, ca: CreatedCA) -> None:
    from pki.crl import crl_status
    from pki.errors import PkiError
    from pki.inventory import list_certs

    home.crl.write_text("garbage")
    with pytest.raises(PkiError) as err:
        crl_status(home)
    assert str(err.value) == f"CRL: {home.crl} is not a PEM CRL; run `pki crl`."
    home.index_path.write_bytes(b"not a database" * 100)
    with pytest.raises(PkiError) as err:
        list_certs(home)
    assert str(err.value) == (
        f"index: {home.index_path} is not a usable SQLite database (file is not a database)."
    )


def test_locks_held_too_long_are_one_line_errors(
    home: PkiHome, ca: CreatedCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    monkeypatch.setattr(pki.files, "LOCK_TIMEOUT_S", 1.0)
    holder = sqlite3.connect(home.index_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a stopped `pki` process in mid-write would
    try:
        with pytest.raises(PkiError) as err:
            revoke(home, user.info.serial, "superseded")
    finally:
        holder.close()
    assert str(err.value) == (
        f"index: Another pki process kept {home.index_path} locked for 1 s; "
        "try again when it has finished."
    )
    fd = os.open(home.root / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(PkiError) as err:
            write_crl(home, passphrase=PASSPHRASE)
    finally:
        os.close(fd)
    assert str(err.value) == (
        f"lock: Another pki process kept {home.root / '.lock'} locked for 1 s; "
        "try again when it has finished."
    )
    revoke(home, user.info.serial, "superseded")  # both free again
    assert write_crl(home, passphrase=PASSPHRASE)


def test_atomic_write_errors_name_the_target(tmp_path: Path) -> None:
    # A name that fits (255 bytes) while the temporary name beside it does not: fails for root too.
    target = tmp_path / ("n" * 240)
    with pytest.raises(OSError, match="too long") as err:
        atomic_write(target, b"data")
    assert err.value.filename == str(target)
    assert os.listdir(tmp_path) == []
