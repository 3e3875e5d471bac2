"""Where passphrases and passwords come from; never from a bare command-line argument.

Order: a file (its first line, without the newline), then an environment variable, then a
hidden prompt (only on a terminal), then, for .p12 passwords, a generated one shown once.
Variables: ``PKI_CA_PASSPHRASE`` (CA passphrase), ``PKI_P12_PASSWORD`` (.p12 password),
``PKI_BACKUP_PASSPHRASE`` (the passphrase of ``pki backup`` archives).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pki.errors import PassphraseError

CA_PASSPHRASE_ENV = "PKI_CA_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
P12_PASSWORD_ENV = "PKI_P12_PASSWORD"  # noqa: S105
BACKUP_PASSPHRASE_ENV = "PKI_BACKUP_PASSPHRASE"  # noqa: S105
RELEASE_PASSPHRASE_ENV = "PKI_RELEASE_PASSPHRASE"  # noqa: S105

# No 0/O, 1/l/I: generated passwords are read aloud and typed from paper at the edge.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"
_GROUPS, _GROUP_LEN = 5, 5  # 25 characters of a 50-letter alphabet: about 141 bits


@dataclass(frozen=True)
class Secret:
    value: bytes
    generated: bool = False
    warning: str | None = None  # e.g. the file it came from is readable by others


def exposure(path: Path, what: str) -> str | None:
    """A warning when a secret file can be read or written by users other than its owner."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return (
            f"WARNING: {what}: {path} is open to other users (mode {mode:04o}); "
            f"run `chmod 600 {path}`."
        )
    return None


def read_secret_file(path: Path, what: str) -> bytes:
    """The first line of ``path`` without its line ending."""
    try:
        with path.open("rb") as fh:
            line = fh.readline()
    except OSError as exc:
        raise PassphraseError(f"{what}: Cannot read {path} ({exc.strerror}).") from None
    value = line.removesuffix(b"\n").removesuffix(b"\r")
    if not value:
        raise PassphraseError(f"{what}: The first line of {path} is empty.")
    return value


def secret_from_env(name: str) -> bytes | None:
    """The secret in environment variable ``name`` (UTF-8); None when it is unset or empty.

    The one place pki and the supply service read a secret from the environment.
    """
    value = os.environ.get(name)
    return value.encode("utf-8") if value else None


def generate_password() -> str:
    import secrets  # the stdlib module (imported here: it pulls in random, costly at start-up)

    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LEN)) for _ in range(_GROUPS))
    return "-".join(groups)


def resolve(
    *,
    what: str,
    file: Path | None,
    env: str,
    prompt: Callable[[], str] | None,
    generate: bool = False,
) -> Secret:
    """The secret from the first source that has one.

    ``prompt`` is called only when no file or variable gives the secret; the CLI passes ``None``
    when stdin is not a terminal, so scripts fail with a clear line instead of hanging. With
    ``generate``, an empty answer (or no terminal) yields a generated password.
    """
    if file is not None:
        return Secret(read_secret_file(file, what), warning=exposure(file, what))
    value = secret_from_env(env)
    if value is not None:
        return Secret(value)
    if prompt is not None:
        answer = prompt()
        if answer or not generate:
            return Secret(answer.encode("utf-8"))
    if generate:
        return Secret(generate_password().encode("ascii"), generated=True)
    raise PassphraseError(
        f"{what}: Give --{'passphrase' if 'passphrase' in what else 'password'}-file or set {env} "
        "(no terminal to prompt on)."
    )
