"""A home's CA: create the root once, load it (with the chain above it) to sign, sign its CRL.

An issuing CA is made and imported by ``pki.fleet``; once imported it loads like a root, with
``chain`` holding the CAs above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pki import audit, bundles, constraints, crl, keys, profiles
from pki.certinfo import CertInfo, describe, load_pem
from pki.errors import CAExistsError, InputError
from pki.files import atomic_write, read_file
from pki.home import PkiHome, as_home
from pki.index import IndexRow
from pki.keys import (
    DEFAULT_KEY_TYPE,
    MIN_PKCS8_SECRET_LENGTH,
    PrivateKey,
    check_secret,
    encrypted_pem,
    load_encrypted_pem,
)


@dataclass(frozen=True)
class LoadedCA:
    """The CA certificate with its decrypted key, ready to sign."""

    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()  # the CAs above this one, its issuer first

    def issuer(self) -> profiles.Issuer:
        ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return profiles.Issuer(self.cert.subject, self.key, ski)

    @property
    def pem(self) -> bytes:
        """This CA's certificate and the chain above it: what follows a leaf in a full chain."""
        return b"".join(c.public_bytes(Encoding.PEM) for c in (self.cert, *self.chain))

    @property
    def is_root(self) -> bool:
        return not self.chain and self.cert.issuer == self.cert.subject

    @property
    def name_constraints(self) -> x509.NameConstraints | None:
        return constraints.of(self.cert)


@dataclass(frozen=True)
class CreatedCA:
    info: CertInfo
    cert_path: Path
    key_path: Path
    crl_path: Path


def ca_name(name: str, org: str | None, country: str | None) -> x509.Name:
    if not name.strip():
        raise InputError("name: The CA needs a name.")
    attrs = []
    if country is not None:
        # X.520 countryName is a PrintableString of exactly two letters (ISO 3166 alpha-2).
        if len(country) != 2 or not country.isascii() or not country.isalpha():
            raise InputError(
                f"country: Use a two-letter ISO 3166 code such as US, not {country!r}."
            )
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, name))
    return x509.Name(attrs)


def init_ca(
    home: PkiHome | Path | str,
    *,
    name: str,
    org: str | None = None,
    country: str | None = None,
    key_type: str = DEFAULT_KEY_TYPE,
    days: int | None = None,
    passphrase: bytes,
) -> CreatedCA:
    """Create the root CA (key encrypted with ``passphrase``) and an empty CRL.

    Refuses to touch a home that already has a CA certificate.
    """
    h = as_home(home)
    kt = keys.key_type(key_type)
    lifetime = profiles.check_days("ca", days)
    subject = ca_name(name, org, country)
    check_secret(passphrase, "CA passphrase", MIN_PKCS8_SECRET_LENGTH)
    with h.lock():
        refuse_existing(h)
        key = kt.generate()
        not_before, not_after = profiles.validity(lifetime)
        cert = profiles.build(
            profiles.CA,
            subject=subject,
            public_key=key.public_key(),
            issuer=None,
            self_key=key,
            serial=x509.random_serial_number(),
            not_before=not_before,
            not_after=not_after,
        )
        ca = LoadedCA(cert, key)
        # The certificate is written last: its presence is what "this home has a CA" means. A
        # process killed half-way leaves a key without it, which refuse_existing will not
        # overwrite (it cannot tell that key from a real CA key whose certificate was moved).
        atomic_write(h.ca_key, encrypted_pem(key, passphrase))
        atomic_write(h.issued_cert(describe(cert).serial), ca.pem)
        with h.index() as index, index.write():
            info = describe(cert)
            index.insert(IndexRow.of(info, kind="ca", name=name, key_type=kt.name))
            first = crl.publish(h, ca.issuer(), index, days=None)
            details = {"key_type": kt.name, "crl_number": first.number}
            audit.record(
                h, index, audit.Event("init-ca", (info.serial,), (info.subject_dn,), details)
            )
        atomic_write(h.ca_cert, ca.pem)
        bundles.write(h)
    return CreatedCA(describe(cert), h.ca_cert, h.ca_key, h.crl)


def refuse_existing(home: PkiHome) -> None:
    """CAExistsError when ``home`` has a CA certificate or a CA key: never overwrite either."""
    if home.is_pending():
        raise CAExistsError(
            f"CA: This home has a pending issuing CA ({home.request}); import its certificate "
            "with `pki import-ca`, or move ca/ away to start again."
        )
    if home.has_ca():
        raise CAExistsError(f"CA: {home.ca_cert} exists already; refusing to overwrite it.")
    if home.ca_key.exists():
        raise CAExistsError(
            f"CA: {home.ca_key} exists without {home.ca_cert.name}; restore the certificate, "
            "or move the key away to create a new CA."
        )


def load_ca_cert(home: PkiHome | Path | str) -> x509.Certificate:
    h = as_home(home)
    h.require_ca()
    return load_pem(read_file(h.ca_cert, "CA certificate"))


def load_ca(home: PkiHome | Path | str, passphrase: bytes) -> LoadedCA:
    """The CA certificate and its key; PassphraseError when the passphrase is wrong."""
    h = as_home(home)
    cert = load_ca_cert(h)
    key = load_encrypted_pem(read_file(h.ca_key, "CA key"), passphrase, "CA passphrase")
    if key.public_key() != cert.public_key():
        raise InputError(f"CA key: {h.ca_key} does not belong to {h.ca_cert}.")
    return LoadedCA(cert, key, tuple(bundles.upper_chain(h)))


def write_crl(
    home: PkiHome | Path | str, *, days: int | None = None, passphrase: bytes
) -> crl.CrlInfo:
    """Sign and write ``ca/crl.pem`` listing every revoked certificate (default 30 days)."""
    h = as_home(home)
    crl.check_crl_days(days)  # before the passphrase is tried
    ca = load_ca(h, passphrase)
    with h.lock(), h.index() as index, index.write():
        info = crl.publish(h, ca.issuer(), index, days=days)
        bundles.write(h)
        details = {
            "number": info.number,
            "revoked": info.revoked,
            "next_update": info.next_update.isoformat(),
        }
        audit.record(h, index, audit.Event("crl", details=details))
        return info
