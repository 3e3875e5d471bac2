"""The audit log: a chained entry per CA operation, `pki log`, tampering, concurrent writers."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pki import audit
from pki.ca import CreatedCA, write_crl
from pki.cli import app
from pki.crl import revoke
from pki.errors import InputError, LogError
from pki.home import PkiHome
from pki.issue import UserRequest, issue_server, issue_user
from tests.pki.checks import fails
from tests.pki.conftest import PASSPHRASE, PASSWORD, mode

OPS = ["init-ca", "issue-user", "issue-user", "issue-server", "revoke", "crl"]


def pki(home: PkiHome, *args: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home.root), *args])


@pytest.fixture
def busy(home: PkiHome, ca: CreatedCA) -> PkiHome:
    """A home whose log has six entries: init-ca, two users, a server, a revocation, a CRL."""
    jane = issue_user(home, UserRequest("Doe, Jane", password=PASSWORD), passphrase=PASSPHRASE)
    issue_user(
        home,
        UserRequest("Roe, Rick", email="rick@example.org", password=PASSWORD),
        passphrase=PASSPHRASE,
    )
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    revoke(home, jane.info.serial, "keyCompromise")
    write_crl(home, passphrase=PASSPHRASE)
    return home


def lines(home: PkiHome) -> list[bytes]:
    return home.log_path.read_bytes().splitlines(keepends=True)


def write_lines(home: PkiHome, content: list[bytes]) -> None:
    home.log_path.write_bytes(b"".join(content))


def forged(previous: bytes, **changes: object) -> bytes:
    """A line chained correctly after ``previous``, as someone who knows the format writes it."""
    before = json.loads(previous)
    data = {**before, "seq": before["seq"] + 1, "prev": before["hash"], **changes}
    data["hash"] = audit.entry_hash(data)
    return audit.canonical(data) + b"\n"


def test_every_operation_writes_one_entry(busy: PkiHome, ca: CreatedCA) -> None:
    entries = audit.entries(busy)
    assert [e.op for e in entries] == OPS
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert mode(busy.log_path) == 0o600
    rows = {r.name: r for r in busy.index().rows()}
    assert entries[0].serials == (ca.info.serial,)
    assert entries[0].subjects == ("CN=Fleet Root CA,O=Fleet,C=US",)
    assert entries[0].details == {"key_type": "ec-p256", "crl_number": 1}
    assert entries[1].serials == (rows["Doe, Jane"].serial,)
    assert entries[1].subjects == ("CN=Doe\\, Jane,O=Fleet",)
    assert entries[2].serials == (rows["Roe, Rick"].serial,)
    assert entries[3].serials == (rows["edge.example"].serial,)
    assert entries[3].subjects == ("CN=edge.example,O=Fleet",)
    assert entries[4].serials == (rows["Doe, Jane"].serial,)
    assert entries[4].details == {"reason": "keyCompromise"}
    assert entries[5].serials == ()
    assert entries[5].details["number"] == 2 and entries[5].details["revoked"] == 1
    now = dt.datetime.now(dt.UTC)
    for e in entries:
        assert e.user == getpass.getuser() and e.host == socket.gethostname()
        assert e.time.utcoffset() == dt.timedelta(0)
        assert now - dt.timedelta(minutes=5) < e.time <= now
    assert entries[0].prev == audit.GENESIS
    assert [e.prev for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert audit.verify(busy) == audit.Verified(6, entries[-1].hash)


def test_replace_logs_the_superseded_serial(home: PkiHome, ca: CreatedCA) -> None:
    old = issue_server(home, "edge.example", passphrase=PASSPHRASE)
    new = issue_server(home, "edge.example", replace=True, passphrase=PASSPHRASE)
    last = audit.entries(home)[-1]
    assert last.serials == (new.info.serial,)
    assert last.details == {"superseded": [old.info.serial]}


def test_cli_lists_verifies_and_filters(busy: PkiHome) -> None:
    result = pki(busy, "log")
    assert result.exit_code == 0, result.stderr
    printed = result.stdout.splitlines()
    assert [line.split()[3] for line in printed] == OPS
    assert printed[0].startswith("#1  ")
    assert "CN=Doe\\, Jane" in printed[1]
    assert f"{getpass.getuser()}@{socket.gethostname()}" in printed[1]
    as_json = json.loads(pki(busy, "log", "--json").stdout)
    assert [e["op"] for e in as_json] == OPS
    assert as_json == [e.to_json() for e in audit.entries(busy)]
    today = dt.datetime.now(dt.UTC).date()
    assert len(json.loads(pki(busy, "log", "--json", "--since", f"{today}").stdout)) == 6
    tomorrow = today + dt.timedelta(days=1)
    assert json.loads(pki(busy, "log", "--json", "--since", f"{tomorrow}").stdout) == []
    assert pki(busy, "log", "--since", f"{tomorrow}T00:00+00:00").stdout == ""
    verified = pki(busy, "log", "--verify")
    head = audit.entries(busy)[-1].hash
    assert verified.stdout == (
        f"Log OK: 6 entries, chained, and the index records the same head ({head[:16]}).\n"
    )
    fails(
        pki(busy, "log", "--since", "last week"),
        "since: Give a date or time such as 2026-12-01 or 2026-12-01T08:00, not 'last week'.",
    )
    fails(
        pki(busy, "log", "--verify", "--json"),
        "--verify: Checks the whole log; leave out --json and --since.",
    )


def test_an_empty_home_verifies(home: PkiHome) -> None:
    assert pki(home, "log").stdout == ""
    assert pki(home, "log", "--verify").stdout.startswith("Log OK: 0 entries")


def _edit_field(home: PkiHome) -> list[bytes]:
    content = lines(home)
    content[2] = content[2].replace(b"CN=Roe\\\\, Rick", b"CN=Poe\\\\, Rick")
    assert content != lines(home)
    return content


def _edit_and_rehash(home: PkiHome) -> list[bytes]:
    content = lines(home)
    data = json.loads(content[2])
    data["user"] = "somebody-else"
    data["hash"] = audit.entry_hash(data)
    content[2] = audit.canonical(data) + b"\n"
    return content


def _swap(home: PkiHome) -> list[bytes]:
    content = lines(home)
    content[1], content[2] = content[2], content[1]
    return content


def _delete_middle(home: PkiHome) -> list[bytes]:
    content = lines(home)
    del content[2]
    return content


def _truncate_tail(home: PkiHome) -> list[bytes]:
    return lines(home)[:4]


def _append_forged(home: PkiHome) -> list[bytes]:
    content = lines(home)
    return [*content, forged(content[-1], op="issue-user", serials=["0BAD"])]


def _replace_last(home: PkiHome) -> list[bytes]:
    content = lines(home)
    return [*content[:-1], forged(content[-2], op="crl", details={})]


def _not_json(home: PkiHome) -> list[bytes]:
    return [*lines(home), b'{"seq": 7, "op": "iss']


_CHECK = "compare the log with a backup."


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_edit_field, f"log: Line 3 does not match its hash (the entry was edited); {_CHECK}"),
        (
            _edit_and_rehash,
            f"log: Line 4 does not chain to line 3 (an entry before it was replaced); {_CHECK}",
        ),
        (
            _swap,
            "log: Line 2 holds entry #3, not #2 (entries were deleted, inserted or reordered); "
            + _CHECK,
        ),
        (
            _delete_middle,
            "log: Line 3 holds entry #4, not #3 (entries were deleted, inserted or reordered); "
            + _CHECK,
        ),
        (
            _truncate_tail,
            "log: Entry #5 and after are missing (the log ends at line 4, the index records 6 "
            "entries); restore the log from a backup.",
        ),
        (
            _append_forged,
            "log: Line 7 is past the 6 entries the index records (forged, or left by a process "
            f"that died before committing); {_CHECK}",
        ),
        (
            _replace_last,
            "log: Line 6 is not the entry the index records last (the log was rewritten); "
            + _CHECK,
        ),
        (_not_json, f"log: Line 7 is not a JSON entry; {_CHECK}"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_tampering_fails_verify_naming_the_first_bad_line(
    busy: PkiHome, tamper, message: str
) -> None:
    write_lines(busy, tamper(busy))
    fails(pki(busy, "log", "--verify"), message)


def test_a_truncated_log_stops_issuance_and_nothing_is_issued(busy: PkiHome) -> None:
    write_lines(busy, _truncate_tail(busy))
    before = sorted(busy.issued_dir.iterdir())
    with pytest.raises(LogError) as caught:
        issue_user(busy, UserRequest("Late, Lou", password=PASSWORD), passphrase=PASSPHRASE)
    assert str(caught.value) == (
        f"log: {busy.log_path} is shorter than the 6 entries the index records; run "
        "`pki log --verify` and restore the log from a backup."
    )
    assert sorted(busy.issued_dir.iterdir()) == before
    assert len(busy.index().rows()) == 4


def test_more_than_one_line_past_the_head_stops_issuance(busy: PkiHome) -> None:
    # An index older than the log (restored alone, or replaced): its entries are not cut off.
    content = lines(busy)
    first = forged(content[-1], op="revoke")
    write_lines(busy, [*content, first, forged(first, op="crl")])
    with pytest.raises(LogError) as caught:
        issue_user(busy, UserRequest("Late, Lou", password=PASSWORD), passphrase=PASSPHRASE)
    assert str(caught.value) == (
        f"log: {busy.log_path} holds entries past the 6 the index records; run "
        "`pki log --verify` and restore the log from a backup."
    )
    assert len(lines(busy)) == 8


def test_an_uncommitted_tail_is_cut_off_by_the_next_writer(busy: PkiHome) -> None:
    # What a process killed between its append and its commit leaves behind.
    write_lines(busy, _not_json(busy))
    issued = issue_user(busy, UserRequest("Next, Nia", password=PASSWORD), passphrase=PASSPHRASE)
    assert audit.verify(busy).count == 7
    assert audit.entries(busy)[-1].serials == (issued.info.serial,)


def test_a_failed_issuance_logs_nothing(busy: PkiHome, tmp_path: Path) -> None:
    taken = tmp_path / "taken.p12"
    taken.write_bytes(b"")
    request = UserRequest("Doe, Jane", password=PASSWORD, out=taken)
    with pytest.raises(InputError, match="exists already"):
        issue_user(busy, request, passphrase=PASSPHRASE)
    assert audit.verify(busy).count == 6


def test_concurrent_processes_leave_one_entry_per_certificate(
    home: PkiHome, ca: CreatedCA, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PKI_HOME": str(home.root),
        "PKI_CA_PASSPHRASE": PASSPHRASE.decode(),
        "PKI_P12_PASSWORD": PASSWORD.decode(),  # shared: the two batches write no sheet
    }
    argvs = [["issue-user", f"Single {i}"] for i in range(4)]
    for b in range(2):
        csv_path = tmp_path / f"batch{b}.csv"
        csv_path.write_text("full_name\n" + "".join(f"Batch{b} {i}\n" for i in range(8)))
        argvs.append(["issue-user", "--from", str(csv_path)])
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pki.cli", *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), outputs
    db = sqlite3.connect(home.index_path)
    serials = [r[0] for r in db.execute("SELECT serial FROM certificates WHERE kind = 'user'")]
    db.close()
    assert len(serials) == len(set(serials)) == 4 + 16
    assert audit.verify(home).count == 1 + 20
    logged = [e.serials[0] for e in audit.entries(home) if e.op == "issue-user"]
    assert sorted(logged) == sorted(serials)
    assert pki(home, "log", "--verify").exit_code == 0
