"""Key types, key generation and the encrypted CA key at rest.

The default is ``ec-p256`` (see docs/pki.md): an ECDSA P-256 signature and ECDHE handshake cost a
fraction of RSA-2048's on the server, and P-256 is accepted by every current browser, by the macOS
and Windows keychains, by Java since 7 and by curl/OpenSSL. RSA remains available for old clients.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pki.errors import CertificateError, InputError, PassphraseError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

DEFAULT_KEY_TYPE = "ec-p256"
MIN_SECRET_LENGTH = 8
# The library writes encrypted PKCS#8 only as PBES2 with PBKDF2-HMAC-SHA256 at a fixed 2048
# iterations (RFC 8018 section 6.2; cryptography offers no stronger PKCS#8 encoding), so a secret
# protecting a PKCS#8 key file (the CA passphrase, an `issue-user --pem` password) must itself
# carry the strength an offline guesser faces: 16 characters, about 100 bits when random. See
# docs/pki.md, "The CA key at rest". (.p12 files use 100 000 rounds; 8 characters suffice there.)
MIN_PKCS8_SECRET_LENGTH = 16


@dataclass(frozen=True)
class KeyType:
    name: str
    curve: type[ec.EllipticCurve] | None = None
    rsa_bits: int = 0

    def generate(self) -> PrivateKey:
        if self.curve is not None:
            return ec.generate_private_key(self.curve())
        # 65537 is the only public exponent anyone should use (and some verifiers require it).
        return rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)


KEY_TYPES: dict[str, KeyType] = {
    "ec-p256": KeyType("ec-p256", curve=ec.SECP256R1),
    "ec-p384": KeyType("ec-p384", curve=ec.SECP384R1),
    "rsa-2048": KeyType("rsa-2048", rsa_bits=2048),
    "rsa-3072": KeyType("rsa-3072", rsa_bits=3072),
    "rsa-4096": KeyType("rsa-4096", rsa_bits=4096),
}


def key_type(name: str) -> KeyType:
    try:
        return KEY_TYPES[name.lower()]
    except KeyError:
        choices = ", ".join(KEY_TYPES)
        raise InputError(f"key type: Unknown key type {name!r}; choose one of {choices}.") from None


def key_type_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"ec-p{key.curve.key_size}"
    return f"rsa-{key.key_size}"


def supported_key_type(key: object) -> str:
    """The key type of a public key from outside (a CSR), if it is one this CA signs."""
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        name = key_type_of(key)
        if name in KEY_TYPES:
            return name
    else:
        name = type(key).__name__.removeprefix("_")
    raise CertificateError(f"key: A {name} key is not accepted; use {', '.join(KEY_TYPES)}.")


def signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    """The digest to sign with: SHA-384 for a P-384 key (matching strength), else SHA-256."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def check_secret(secret: bytes, what: str, minimum: int = MIN_SECRET_LENGTH) -> bytes:
    """``secret`` when it has at least ``minimum`` characters (UTF-8), else PassphraseError."""
    if len(secret.decode("utf-8", "replace")) < minimum:
        raise PassphraseError(f"{what}: Too short; use at least {minimum} characters.")
    return secret


def encrypted_pem(key: PrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM encrypted with the best the library offers: PBES2, AES-256-CBC, PBKDF2-SHA256.

    The 2048 PBKDF2 iterations are fixed by cryptography; ``load_encrypted_pem`` also reads keys
    an operator re-encrypted with openssl at a higher count or with scrypt (RFC 7914).
    """
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def plain_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM, for server keys nginx must read at start without a prompt."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_encrypted_pem(data: bytes, passphrase: bytes, what: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError):
        raise PassphraseError(f"{what}: Wrong passphrase (cannot decrypt the key).") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InputError(f"{what}: Unsupported key algorithm.")
    return key
