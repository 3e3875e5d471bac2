"""Text every database the service runs on can store: no NUL (PostgreSQL's text cannot hold it)
and no unpaired surrogate (it has no UTF-8 form, so neither SQLite nor PostgreSQL takes it)."""

from __future__ import annotations


def unstorable(value: str) -> str | None:
    """Why ``value`` cannot be stored, as the end of a sentence, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogate characters"
    return None
