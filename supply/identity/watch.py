"""A file's parsed contents, re-read only when the file changes.

One ``stat`` per use (a microsecond or two) catches every replacement: ``pki crl`` and the other pki
writers rename a new file into place, so the inode and mtime change. This is how a new CRL or a
rotated proxy secret reaches running workers without a restart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
_Stamp = tuple[int, int, int]


class WatchedFile(Generic[T]):
    """``get()`` returns ``parse(bytes)`` for the current version of ``path``.

    A missing or unparsable file raises whatever ``parse`` or ``open`` raise, every time, so the
    caller fails closed and a fixed file is picked up at the next request.
    """

    def __init__(self, path: Path, parse: Callable[[bytes], T]) -> None:
        self.path = path
        self._parse = parse
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._value: T | None = None

    def get(self) -> T:
        st = os.stat(self.path)
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        value = self._value
        if stamp == self._stamp and value is not None:
            return value
        with self._lock:
            value = self._parse(self.path.read_bytes())
            self._stamp, self._value = stamp, value
        return value

    def invalidate(self) -> None:
        """Parse the file again at the next ``get()`` (what it is parsed against changed)."""
        with self._lock:
            self._stamp = None

    @property
    def version(self) -> _Stamp | None:
        """The stamp of the version last parsed (changes when the file does)."""
        return self._stamp
