"""Certificate -> user, through the mapping table, cached by SHA-256 fingerprint.

Exact match only: the certificate's anchor and the identity its rule gives, (issuer DN, subject
DN) in their canonical RFC 4514 form or a UPN / email, compared as stored strings, and a pinned
fingerprint when the mapping has one (a pinned mapping wins over an unpinned one). No case
folding, no Unicode normalisation, no username derivation: two different identities never reach
the same mapping.

Cache: the user (with its roles pre-loaded) under ``identity:<generation>:<anchor>:<fingerprint>``
in the file cache in SUPPLY_IDENTITY_CACHE_DIR, shared by every worker and management command on the
host. Any change to a mapping, a user, a group or a membership sets a new generation, which
orphans every entry at once. The generation is a plain file (``generation``, renamed into place)
that workers watch with one ``stat`` per request, re-reading it only when it changes. Entries
also expire after SUPPLY_IDENTITY_CACHE_SECONDS, which bounds staleness for changes that bypass
the ORM's signals (``QuerySet.update``) or another host's cache.
Unknown certificates are not cached, so a grant takes effect at the next request.

In front of the file cache, each process keeps the users it read under the same keys and with
the same expiry (``_recent``): a new generation misses both at once, and a request then costs a
dictionary lookup instead of a file read and an unpickling. Each request gets its own copy of
the user, as it would from the file cache.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import BaseCache
from django.core.cache.backends.filebased import FileBasedCache

from pki.files import atomic_write
from supply.identity.models import CertificateIdentity
from supply.identity.roles import roles_of
from supply.identity.trust import Verified
from supply.identity.watch import WatchedFile

_GENERATION_FILE = "generation"
_RACY_NS = 2_000_000_000  # well past filesystem timestamp granularity
log = logging.getLogger(__name__)


def _cache() -> BaseCache:
    # Looked up per call so tests' settings overrides apply; built once per configuration.
    return _file_cache(settings.SUPPLY_IDENTITY_CACHE_DIR, settings.SUPPLY_IDENTITY_CACHE_SECONDS)


@functools.cache
def _file_cache(directory: object, timeout: int) -> BaseCache:
    return FileBasedCache(str(directory), {"TIMEOUT": timeout, "OPTIONS": {"MAX_ENTRIES": 20000}})


@functools.cache
def _generation_file(directory: object) -> WatchedFile[str]:
    return WatchedFile(Path(str(directory)) / _GENERATION_FILE, lambda data: data.decode().strip())


def _new_generation() -> None:
    """Write a new generation (atomically: a worker reads the old one or the new one)."""
    directory = Path(str(settings.SUPPLY_IDENTITY_CACHE_DIR))
    atomic_write(directory / _GENERATION_FILE, (uuid.uuid4().hex + "\n").encode())


def _generation() -> str:
    watched = _generation_file(settings.SUPPLY_IDENTITY_CACHE_DIR)
    try:
        generation = watched.get()
    except FileNotFoundError:
        # First use. Two workers starting at once may both write one: the last rename wins and
        # the other's next stat sees it, which only orphans a few fresh entries.
        _new_generation()
        generation = watched.get()
    stamp = watched.version
    if stamp is not None and time.time_ns() - stamp[0] < _RACY_NS:
        # One change (a grant) fires several renames within a timestamp tick, and a freed inode
        # may come back: a new file can then carry an old stamp. Right after a change, read the
        # file itself (as git does with "racily clean" index entries).
        generation = watched.path.read_text().strip()
    return generation


def find_mapping(verified: Verified) -> CertificateIdentity | None:
    """The mapping that applies to this certificate, pinned first."""
    info = verified.info
    rows = CertificateIdentity.objects.select_related("user").filter(
        anchor=verified.anchor, fingerprint__in=(info.sha256, "")
    )
    if verified.value:
        rows = rows.filter(value=verified.value, issuer_dn="", subject_dn="")
    else:
        rows = rows.filter(value="", issuer_dn=info.issuer_dn, subject_dn=info.subject_dn)
    return rows.order_by("-fingerprint").first()


_RECENT_SIZE = 1024
_recent: dict[str, tuple[float, User]] = {}  # cache key -> (expiry on time.monotonic(), user)


def _remember(key: str, user: User) -> None:
    if len(_recent) >= _RECENT_SIZE:
        _recent.clear()  # rare (that many people on one worker); cheaper than an LRU per hit
    _recent[key] = (time.monotonic() + settings.SUPPLY_IDENTITY_CACHE_SECONDS, user)


def user_for(verified: Verified) -> User | None:
    try:
        cache = _cache()
        key: str | None = f"identity:{_generation()}:{verified.anchor}:{verified.info.sha256}"
    except OSError as exc:  # an unwritable cache directory costs speed, never correctness
        log.warning("identity cache unavailable, using the database: %s", exc)
        key = None
    if key is not None:
        hit = _recent.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return copy.copy(hit[1])
        try:
            user: User | None = cache.get(key)
        except OSError as exc:
            log.warning("identity cache unreadable, using the database: %s", exc)
            user = None
        if user is not None:
            _remember(key, user)
            return copy.copy(user)
    mapping = find_mapping(verified)
    if mapping is None:
        return None
    user = mapping.user
    roles_of(user)  # loaded now so the cached copy carries them
    if key is not None:
        with contextlib.suppress(OSError):
            cache.set(key, user, settings.SUPPLY_IDENTITY_CACHE_SECONDS)
        _remember(key, copy.copy(user))
    return user


def invalidate(*_args: Any, **_kwargs: Any) -> None:
    """Forget every cached lookup (a signal receiver, hence the loose signature)."""
    try:
        _new_generation()
    except OSError as exc:
        # Entries still expire after SUPPLY_IDENTITY_CACHE_SECONDS; say so loudly.
        log.error("identity cache not invalidated (stale for up to its timeout): %s", exc)
