"""Distinguished names typed by people, brought to the one canonical RFC 4514 form.

``cryptography`` parses the string (RFC 4514 section 3, escapes included) and serialises it back,
so spacing and escaping style do not matter but every attribute value is kept exactly: case,
punctuation and non-ASCII letters are never changed.
"""

from __future__ import annotations

from cryptography import x509

from supply.identity.errors import IdentityError


def canonical_dn(text: str, what: str = "DN") -> str:
    """The canonical form of ``text``; raises IdentityError when it is not an RFC 4514 DN."""
    try:
        name = x509.Name.from_rfc4514_string(text.strip())
    except ValueError as exc:
        raise IdentityError(f"{what}: {text!r} is not an RFC 4514 distinguished name.") from exc
    if not list(name):
        raise IdentityError(f"{what}: Must not be empty.")
    return name.rfc4514_string()
