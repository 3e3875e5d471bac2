"""The audit log of a PKI home: ``log.jsonl``, one JSON entry per CA operation, chained by hash.

Each line is the canonical JSON (sorted keys, no spaces, UTF-8) of one entry::

    {"details":{},"hash":"…","host":"bridge","op":"issue-user","prev":"…","seq":7,
     "serials":["3F…"],"subjects":["CN=Doe\\, Jane,O=Fleet"],"time":"2026-12-03T01:20:00+00:00",
     "user":"jane"}

``hash`` is the SHA-256 (hex) of the canonical JSON of the entry without ``hash``; ``prev`` is the
previous entry's ``hash`` (``GENESIS`` for the first) and ``seq`` counts from 1, so an edited,
reordered, inserted or deleted line breaks the chain at that line. Cutting lines off the end
leaves a valid chain, so the *head* (entry count, last hash, byte size) is kept in the index's
meta table and written in the same SQLite transaction as the change the entry describes.

Writers call ``record`` inside ``Index.write()`` (SQLite's write lock, which every CA operation
holds), as the last step before the commit: the line is appended and fsynced, then the head is
updated and commits with the operation. Bytes past the committed head belong to an operation that
did not commit (a process that died between the append and the commit); the next writer cuts them
off, after checking that the committed part still ends with the head's entry and that they are at
most one line. A log that is shorter than the head, does not hold the head's entry where the head
says, or has more than one line past it (an index older than the log), is refused: no CA
operation goes unlogged, and no logged one is cut off.

This module imports no cryptography.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from pki.errors import LogError
from pki.files import FILE_MODE, fsync_dir
from pki.home import PkiHome
from pki.index import Index

GENESIS = "0" * 64  # the ``prev`` of entry #1
HEAD_KEY = "audit_log_head"
# The operations logged today; a new one only needs a name here and a ``record`` call.
OPERATIONS = (
    "init-ca",
    "sign-ca",
    "import-ca",
    "import-crl",
    "issue-server",
    "issue-user",
    "issue-release",
    "sign",
    "renew",
    "revoke",
    "crl",
    "backup",
    "restore",
    "trust-add",
    "trust-remove",
    "trust-import-crl",
)
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "seq": int,
    "time": str,
    "user": str,
    "host": str,
    "op": str,
    "serials": list,
    "subjects": list,
    "details": dict,
    "prev": str,
    "hash": str,
}
_TAIL_READ = 1 << 16  # enough bytes before the head's end to hold its last line


@dataclass(frozen=True)
class Event:
    """What an operation logs: its name, the certificates it touched, and small extra facts."""

    op: str
    serials: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """One line of the log."""

    seq: int
    time: dt.datetime
    user: str
    host: str
    op: str
    serials: tuple[str, ...]
    subjects: tuple[str, ...]
    details: dict[str, Any]
    prev: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "user": self.user,
            "host": self.host,
            "op": self.op,
            "serials": list(self.serials),
            "subjects": list(self.subjects),
            "details": self.details,
            "prev": self.prev,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Head:
    """The last committed entry as the index records it."""

    count: int = 0
    hash: str = GENESIS
    size: int = 0  # bytes of the log up to and including that entry's newline


@dataclass(frozen=True)
class Verified:
    count: int
    last_hash: str


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(data: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry without its ``hash`` field."""
    return hashlib.sha256(canonical({k: v for k, v in data.items() if k != "hash"})).hexdigest()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no $USER (a bare container)
        return str(os.getuid())


def read_head(index: Index) -> Head:
    value = index.meta(HEAD_KEY)
    if value is None:
        return Head()
    data = json.loads(value)
    return Head(int(data["count"]), str(data["hash"]), int(data["size"]))


def record(home: PkiHome, index: Index, event: Event) -> Entry:
    """Append ``event`` to the log and move the head (call inside ``index.write()``, last)."""
    if event.op not in OPERATIONS:
        raise ValueError(f"unknown audit operation {event.op!r}")
    head = read_head(index)
    path = home.log_path
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        _settle(fd, home, head)
        data: dict[str, Any] = {
            "seq": head.count + 1,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "user": _os_user(),
            "host": socket.gethostname(),
            "op": event.op,
            "serials": list(event.serials),
            "subjects": list(event.subjects),
            "details": event.details,
            "prev": head.hash,
        }
        data["hash"] = entry_hash(data)
        line = canonical(data) + b"\n"
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)
    new_head = Head(head.count + 1, data["hash"], head.size + len(line))
    index.set_meta(HEAD_KEY, json.dumps(asdict(new_head)))
    return _entry(data, 0)


def _settle(fd: int, home: PkiHome, head: Head) -> None:
    """Check the log holds the committed head, and cut off what an uncommitted writer left."""
    size = os.fstat(fd).st_size
    verify_hint = "run `pki log --verify` and restore the log from a backup"
    if size < head.size:
        raise LogError(
            f"log: {home.log_path} is shorter than the {head.count} entries the index records; "
            f"{verify_hint}."
        )
    if head.count:
        start = max(0, head.size - _TAIL_READ)
        tail = os.pread(fd, head.size - start, start)
        last = tail.rstrip(b"\n").rpartition(b"\n")[2]
        try:
            ok = tail.endswith(b"\n") and json.loads(last).get("hash") == head.hash
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            raise LogError(
                f"log: {home.log_path} does not hold the entry #{head.count} the index records; "
                f"{verify_hint}."
            )
    if size > head.size:
        # One dying writer leaves at most one line (writers settle the log before appending);
        # more than that past the head means the index is older than the log: keep both.
        extra = os.pread(fd, min(size - head.size, _TAIL_READ), head.size)
        lines = extra.count(b"\n")
        if size - head.size > _TAIL_READ or lines > 1 or (lines == 1 and extra[-1:] != b"\n"):
            raise LogError(
                f"log: {home.log_path} holds entries past the {head.count} the index records; "
                f"{verify_hint}."
            )
        os.ftruncate(fd, head.size)


def _entry(data: dict[str, Any], line: int) -> Entry:
    for name, kind in _FIELDS.items():
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            raise LogError(f"log: Line {line} has no valid {name!r} field; {_DAMAGED}.")
    try:
        time = dt.datetime.fromisoformat(data["time"])
    except ValueError:
        raise LogError(f"log: Line {line} has no valid 'time' field; {_DAMAGED}.") from None
    return Entry(
        seq=data["seq"],
        time=time,
        user=data["user"],
        host=data["host"],
        op=data["op"],
        serials=tuple(data["serials"]),
        subjects=tuple(data["subjects"]),
        details=data["details"],
        prev=data["prev"],
        hash=data["hash"],
    )


_DAMAGED = "compare the log with a backup"


def _parse(raw: bytes, line: int) -> tuple[dict[str, Any], Entry]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise LogError(f"log: Line {line} is not a JSON entry; {_DAMAGED}.") from None
    if not isinstance(data, dict):
        raise LogError(f"log: Line {line} is not a JSON entry; {_DAMAGED}.")
    return data, _entry(data, line)


def _lines(home: PkiHome) -> list[bytes]:
    try:
        raw = home.log_path.read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the newline that ends the last entry
    return lines


def entries(home: PkiHome, since: dt.datetime | None = None) -> list[Entry]:
    """The log's entries (parsed, not verified), those at or after ``since`` when given."""
    out = [_parse(raw, n)[1] for n, raw in enumerate(_lines(home), start=1)]
    return [e for e in out if since is None or e.time >= since]


def verify(home: PkiHome) -> Verified:
    """Check every entry's number, hash and link to the one before, then the index's head;
    LogError names the first line that fails."""
    prev = GENESIS
    lines = _lines(home)
    for n, raw in enumerate(lines, start=1):
        data, entry = _parse(raw, n)
        if entry.seq != n:
            raise LogError(
                f"log: Line {n} holds entry #{entry.seq}, not #{n} (entries were deleted, "
                f"inserted or reordered); {_DAMAGED}."
            )
        if entry_hash(data) != entry.hash:
            raise LogError(
                f"log: Line {n} does not match its hash (the entry was edited); {_DAMAGED}."
            )
        if entry.prev != prev:
            raise LogError(
                f"log: Line {n} does not chain to line {n - 1} (an entry before it was "
                f"replaced); {_DAMAGED}."
            )
        prev = entry.hash
    with home.index() as index:
        head = read_head(index)
    count = len(lines)
    if count < head.count:
        raise LogError(
            f"log: Entry #{count + 1} and after are missing (the log ends at line {count}, the "
            f"index records {head.count} entries); restore the log from a backup."
        )
    if count > head.count:
        raise LogError(
            f"log: Line {head.count + 1} is past the {head.count} entries the index records "
            f"(forged, or left by a process that died before committing); {_DAMAGED}."
        )
    if prev != head.hash:
        raise LogError(
            f"log: Line {count} is not the entry the index records last (the log was "
            f"rewritten); {_DAMAGED}."
        )
    return Verified(count, prev)
