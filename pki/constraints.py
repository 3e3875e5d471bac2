"""Name constraints of an issuing CA (RFC 5280 section 4.2.1.10): parsed, shown and checked.

A site's issuing CA may certify only the names the fleet root gave it. The names are written the
way an operator thinks of them:

- ``example.fleet``  a DNS name: the name itself and every name below it (``a.example.fleet``);
- ``10.20.0.0/16``    an IP network (the prefix length is required: ``10.20.0.1`` alone is a
  typo more often than a /32);
- ``@example.fleet``  an email domain: mailboxes at exactly that host (RFC 5280: a constraint
  without a leading period names one host).

Checking here gives the clear one-line refusal before anything is signed; verifiers (OpenSSL,
nginx, the service through ``cryptography``) enforce the same extension on their own.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from cryptography import x509

from pki.errors import InputError

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HINT = (
    "a DNS name (example.fleet), an IP network (10.20.0.0/16) or an email domain (@example.fleet)"
)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _dns(text: str) -> str | None:
    name = text.strip().lower().rstrip(".")
    if not name.isascii() or len(name) > 253:
        return None
    return name if all(_LABEL.match(label) for label in name.split(".")) else None


def parse(value: str, what: str = "permit") -> x509.GeneralName:
    """One ``--permit``/``--exclude`` VALUE as the GeneralName of a subtree."""
    text = value.strip()
    if text.startswith("@"):
        domain = _dns(text[1:])
        if domain is None:
            raise InputError(f"{what}: {value!r} is not an email domain such as @example.fleet.")
        return x509.RFC822Name(domain)
    if "/" in text:
        try:
            return x509.IPAddress(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            raise InputError(f"{what}: {value!r} is not an IP network ({exc}).") from None
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise InputError(f"{what}: {value!r} needs a prefix length, such as {text}/32.")
    name = _dns(text)
    if name is None:
        raise InputError(f"{what}: {value!r} is not {_HINT}.")
    return x509.DNSName(name)


def build(permit: Iterable[str], exclude: Iterable[str]) -> x509.NameConstraints | None:
    """The extension for the given VALUEs; None when both lists are empty."""
    permitted = _unique(parse(v, "permit") for v in permit)
    excluded = _unique(parse(v, "exclude") for v in exclude)
    if not permitted and not excluded:
        return None
    return x509.NameConstraints(permitted or None, excluded or None)


def _unique(names: Iterable[x509.GeneralName]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


def label(name: x509.GeneralName) -> str:
    """A subtree as the operator wrote it (``example.fleet``, ``10.20.0.0/16``, ``@host``)."""
    if isinstance(name, x509.RFC822Name):
        return f"@{name.value}"
    if isinstance(name, x509.IPAddress | x509.DNSName):
        return str(name.value)
    return f"{type(name).__name__}:{name.value}"


def lines(nc: x509.NameConstraints | None) -> list[str]:
    """``permit example.fleet`` / ``exclude 10.9.0.0/16`` lines, or one line saying none."""
    if nc is None:
        return ["none (this CA may certify any name)"]
    out = [f"permit {label(n)}" for n in nc.permitted_subtrees or ()]
    return out + [f"exclude {label(n)}" for n in nc.excluded_subtrees or ()]


def check_supported(nc: x509.NameConstraints | None) -> None:
    """Refuse subtree types this toolkit cannot check when it issues (directoryName, URI, ...)."""
    for name in [*(nc.permitted_subtrees or ()), *(nc.excluded_subtrees or ())] if nc else []:
        if not isinstance(name, x509.DNSName | x509.IPAddress | x509.RFC822Name):
            raise InputError(f"constraints: {label(name)} is not supported; use {_HINT}.")
        if isinstance(name, x509.IPAddress) and not isinstance(
            name.value, ipaddress.IPv4Network | ipaddress.IPv6Network
        ):
            raise InputError(f"constraints: {name.value} is an address, not a network.")


def _matches(subtree: x509.GeneralName, name: x509.GeneralName) -> bool:
    if isinstance(subtree, x509.DNSName) and isinstance(name, x509.DNSName):
        base = subtree.value.lower().lstrip(".")
        value = name.value.lower()
        if value.startswith("*."):  # a wildcard names only hosts below its base
            value = value[2:]
        return value == base or value.endswith("." + base)
    if isinstance(subtree, x509.IPAddress) and isinstance(name, x509.IPAddress):
        network = subtree.value
        address = name.value
        return (
            isinstance(network, Network)
            and not isinstance(address, Network)
            and address.version == network.version
            and address in network
        )
    if isinstance(subtree, x509.RFC822Name) and isinstance(name, x509.RFC822Name):
        host = name.value.rpartition("@")[2].lower()
        base = subtree.value.lower()
        if base.startswith("."):
            return host.endswith(base)
        return host == base
    return False


def looks_like_host(common_name: str) -> bool:
    """OpenSSL (1.1.0 and later) checks a leaf's CN against DNS constraints when the leaf has no
    DNS SAN and the CN reads as a host name: letters, digits and hyphens in dotted labels."""
    return "." in common_name and _dns(common_name) == common_name.lower()


def check(
    nc: x509.NameConstraints | None, sans: Sequence[x509.GeneralName], common_name: str
) -> None:
    """InputError naming the first name the CA may not certify."""
    if nc is None:
        return
    names = list(sans)
    if not any(isinstance(n, x509.DNSName) for n in names) and looks_like_host(common_name):
        names.append(x509.DNSName(common_name.lower()))
    permitted = list(nc.permitted_subtrees or ())
    excluded = list(nc.excluded_subtrees or ())
    for name in names:
        shown = label(name).lstrip("@") if isinstance(name, x509.RFC822Name) else label(name)
        for subtree in excluded:
            if _matches(subtree, name):
                raise InputError(
                    f"name: {shown} is excluded by this CA's name constraints "
                    f"(exclude {label(subtree)})."
                )
        same_type = [s for s in permitted if type(s) is type(name)]
        if same_type and not any(_matches(s, name) for s in same_type):
            allowed = ", ".join(label(s) for s in same_type)
            raise InputError(
                f"name: {shown} is outside this CA's name constraints (permitted: {allowed})."
            )


def of(cert: x509.Certificate) -> x509.NameConstraints | None:
    """The nameConstraints of a CA certificate, or None."""
    try:
        return cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None


def of_request(csr: x509.CertificateSigningRequest) -> x509.NameConstraints | None:
    """The nameConstraints a CSR asks for in its extension request, or None."""
    try:
        return csr.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None
