"""The host names this site is served under, read from the PKI home's server certificates.

nginx forwards the client's ``Host`` header (the origin check in origin.py compares it with the
browser's ``Origin``), so Django must allow every name nginx serves. Those are exactly the names in
the server certificates ``pki issue-server`` wrote (``servers/<NAME>/cert.pem``): a browser that
reached the service under any other name was shown a certificate that does not match and stopped.
Reading them here means ``pki issue-server NAME`` is the only step; ``SUPPLY_ALLOWED_HOSTS`` stays
for names served by a certificate kept elsewhere.

Imported by settings, so no Django here. Wildcard SANs are left out (Django's ``.example.org``
would also allow ``example.org`` itself); a damaged file is skipped, since nginx fails on it loudly.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509


def _names_of(cert_file: Path) -> list[str]:
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return []
    names = [n.lower() for n in sans.get_values_for_type(x509.DNSName) if not n.startswith("*")]
    for ip in sans.get_values_for_type(x509.IPAddress):
        names.append(f"[{ip}]" if ip.version == 6 else str(ip))
    return names


def server_host_names(pki_home: Path) -> list[str]:
    """DNS and IP names of every server certificate in ``pki_home`` (sorted, no duplicates)."""
    try:
        cert_files = sorted((pki_home / "servers").glob("*/cert.pem"))
    except OSError:
        return []
    return sorted({name for f in cert_files for name in _names_of(f)})
