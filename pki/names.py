"""Subject names and subject alternative names from user input, validated once here."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import NameOID

from pki.errors import InputError

# RFC 1123 section 2.1 host name labels (letters, digits, hyphens; not at either end).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# ub-common-name and friends, RFC 5280 Appendix A.1.
_MAX_ATTR = 64


def _dns_name(text: str, *, wildcard: bool) -> str | None:
    name = text.lower().rstrip(".")
    labels = name.split(".")
    if wildcard and len(labels) > 2 and labels[0] == "*":
        labels = labels[1:]
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    return name


def parse_san(value: str, *, wildcard: bool = True) -> x509.GeneralName:
    """An IP address or a DNS name (type detected; ``IP:`` / ``DNS:`` prefixes accepted)."""
    text = value.strip()
    prefix, _, rest = text.partition(":")
    if prefix.upper() in ("DNS", "IP") and rest:
        text = rest.strip()
    if prefix.upper() != "DNS":
        try:
            return x509.IPAddress(ipaddress.ip_address(text))
        except ValueError:
            if prefix.upper() == "IP":
                raise InputError(f"SAN: {value!r} is not an IP address.") from None
    if not text.isascii():
        raise InputError(f"SAN: {value!r} is not ASCII; give the xn-- (punycode) form.")
    name = _dns_name(text, wildcard=wildcard)
    if name is None:
        raise InputError(f"SAN: {value!r} is neither an IP address nor a valid DNS name.")
    if name.rsplit(".", 1)[-1].isdigit():
        # No top-level domain is all digits (RFC 3696 section 2), so this is a mistyped address.
        raise InputError(f"SAN: {value!r} looks like an IP address but is not one.")
    return x509.DNSName(name)


def server_sans(name: str, extra: Iterable[str]) -> tuple[str, list[x509.GeneralName]]:
    """The canonical server NAME and its SAN list: NAME first, then the extras, no duplicates."""
    if name.strip().startswith("*."):
        # NAME also names the directory servers/NAME and the inventory entry: one host.
        raise InputError(
            f"NAME: {name!r} is a wildcard; name the server by a host name and add the "
            "wildcard with --san."
        )
    first = parse_san(name, wildcard=False)
    sans: list[x509.GeneralName] = [first]
    for value in extra:
        san = parse_san(value)
        if san not in sans:
            sans.append(san)
    canonical = str(first.value)
    return canonical, sans


def _attr(oid: x509.ObjectIdentifier, value: str, what: str) -> x509.NameAttribute[str]:
    if not value.strip():
        raise InputError(f"{what}: Must not be empty.")
    if len(value) > _MAX_ATTR:
        raise InputError(f"{what}: At most {_MAX_ATTR} characters (RFC 5280), got {len(value)}.")
    if any(ord(c) < 0x20 for c in value):
        raise InputError(f"{what}: Control characters are not allowed.")
    return x509.NameAttribute(oid, value)


def subject(common_name: str, *, org: str | None = None, org_unit: str | None = None) -> x509.Name:
    """A subject DN, least specific first in the encoding (so RFC 4514 shows CN first).

    Values are kept exactly as given (UTF8String): commas, plus signs, quotes and non-ASCII
    letters are escaped by the RFC 4514 serialiser, never altered.
    """
    attrs = []
    if org:
        attrs.append(_attr(NameOID.ORGANIZATION_NAME, org, "organization"))
    if org_unit:
        attrs.append(_attr(NameOID.ORGANIZATIONAL_UNIT_NAME, org_unit, "org unit"))
    attrs.append(_attr(NameOID.COMMON_NAME, common_name, "name"))
    return x509.Name(attrs)


def email_san(email: str) -> x509.RFC822Name:
    if not _EMAIL.match(email) or not email.isascii():
        raise InputError(f"email: {email!r} is not an ASCII email address.")
    return x509.RFC822Name(email)


def organization(name: x509.Name) -> str | None:
    attrs = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(attrs[0].value) if attrs else None


def org_unit_of(subject_dn: str) -> str | None:
    """The OU of an RFC 4514 subject DN as the index keeps it, or None."""
    try:
        name = x509.Name.from_rfc4514_string(subject_dn)
    except ValueError:
        return None
    attrs = name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(attrs[0].value) if attrs else None
