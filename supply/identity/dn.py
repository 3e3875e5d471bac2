"""Distinguished names typed by people, brought to the one canonical RFC 4514 form.

``cryptography`` parses the string (RFC 4514 section 3, escapes included) and serialises it back,
so spacing and escaping style do not matter but every attribute value is kept exactly: case,
punctuation and non-ASCII letters are never changed.

A multi-valued RDN (``CN=Doe+UID=jdoe``) is a SET: a certificate encodes its attributes in DER
order (X.690 section 11.6), and the service compares DNs as exact strings in that order. A DN typed
in another order would be stored and then never match, so it is refused with the spelling to use.
"""

from __future__ import annotations

from cryptography import x509

from supply.identity.errors import IdentityError


def _contents(der: bytes) -> bytes:
    """The contents of one DER TLV (short or long definite length, X.690 section 8.1.3)."""
    first = der[1]
    return der[2:] if first < 0x80 else der[2 + (first & 0x7F) :]


def _der_order(rdn: x509.RelativeDistinguishedName) -> list[x509.NameAttribute[str | bytes]]:
    """The attributes of ``rdn`` in the order DER encodes a SET OF: by their encodings."""

    def encoding(attribute: x509.NameAttribute[str | bytes]) -> bytes:
        one = x509.Name([x509.RelativeDistinguishedName([attribute])]).public_bytes()
        return _contents(_contents(one))  # Name SEQUENCE -> RDN SET -> AttributeTypeAndValue

    return sorted(rdn, key=encoding)


def _trim(text: str) -> str:
    """Spaces typed around a DN, not those of its values: only U+0020 is trimmed (a value may end
    in a tab or a NO-BREAK SPACE unescaped), and not a last space escaped as ``\\ ``."""
    body = text.lstrip(" ")
    trimmed = body.rstrip(" ")
    backslashes = len(trimmed) - len(trimmed.rstrip("\\"))
    if backslashes % 2 and len(trimmed) < len(body):
        trimmed += " "
    return trimmed


def canonical_dn(text: str, what: str = "DN") -> str:
    """The canonical form of ``text``; raises IdentityError when it is not an RFC 4514 DN."""
    try:
        name = x509.Name.from_rfc4514_string(_trim(text))
    except ValueError as exc:
        raise IdentityError(f"{what}: {text!r} is not an RFC 4514 distinguished name.") from exc
    if not list(name):
        raise IdentityError(f"{what}: Must not be empty.")
    rdns = list(name.rdns)
    ordered = [x509.RelativeDistinguishedName(_der_order(rdn)) for rdn in rdns]
    if [list(r) for r in ordered] != [list(r) for r in rdns]:
        expected = x509.Name(ordered).rfc4514_string()
        raise IdentityError(
            f"{what}: A multi-valued RDN must be typed in the certificate's order: {expected!r}."
        )
    return name.rfc4514_string()
