"""PKCS#12 export in two encodings.

- modern: keys and certificates encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), MAC
  HMAC-SHA256. Read by OpenSSL 1.1.1+/3, current macOS, Windows 10 1709+/Server 2019+, Java 8u301+.
- legacy (``--legacy``): PBE-SHA1-3DES for keys and certificates, MAC HMAC-SHA1, 2048 rounds, as
  older macOS keychains, Windows 7/8 and older Java import without complaint.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    KeySerializationEncryption,
    PrivateFormat,
    pkcs12,
)

from pki.keys import PrivateKey

# PBKDF2 iterations for the modern encoding: a brute-force guess costs this many HMAC-SHA256
# calls, while an import (three derivations) stays well under a second on a phone.
MODERN_KDF_ROUNDS = 100_000
# OpenSSL's historic default; some old importers misbehave with larger counts.
LEGACY_KDF_ROUNDS = 2048


def encryption(password: bytes, *, legacy: bool) -> KeySerializationEncryption:
    builder = PrivateFormat.PKCS12.encryption_builder()
    if legacy:
        builder = (
            builder.kdf_rounds(LEGACY_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # noqa: S303 - the legacy encoding is SHA-1 by definition
        )
    else:
        builder = (
            builder.kdf_rounds(MODERN_KDF_ROUNDS)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
        )
    return builder.build(password)


def export(
    *,
    key: PrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    friendly_name: str,
    password: bytes,
    legacy: bool = False,
) -> bytes:
    """The .p12 bytes: key, certificate, CA chain, and a friendly name (the key's UTF-8 label)."""
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"),
        key,
        cert,
        list(chain),
        encryption(password, legacy=legacy),
    )
