"""A PKI home made by the real ``pki`` library and CLI, plus certificates ``pki`` refuses to make.

The odd certificates (expired, not yet valid, serverAuth only, no EKU, CA:TRUE, another CA,
self-signed with a copied DN) are built with ``cryptography`` through ``pki.profiles.build`` and,
except for the other-CA and self-signed ones, signed by the real CA key from the PKI home.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki import ca as pki_ca
from pki import issue, profiles
from pki.certinfo import CertInfo, describe
from pki.home import PkiHome
from tests.harness import fleet

CA_PASSPHRASE = "harness CA passphrase"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class UserCert:
    """One client certificate in every form the clients need."""

    name: str
    info: CertInfo
    cert_pem: Path  # the certificate (PEM)
    key_pem: Path  # its key, unencrypted PEM, 0600 (openssl s_client, httpx)
    p12: Path | None = None  # password-protected PKCS#12 (curl, browsers)
    password: str = ""

    @property
    def serial(self) -> str:
        return self.info.serial


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


class PkiSite:
    """A CA, a server certificate for ``server_name`` (+127.0.0.1) and a directory of users."""

    def __init__(
        self,
        root: Path,
        *,
        server_name: str = "localhost",
        fleet_root: Path | None = None,
        site_name: str = "Harness Site",
        permit: Sequence[str] = ("localhost", "127.0.0.0/8"),
    ) -> None:
        """A root CA of its own, or with ``fleet_root`` an issuing CA (``site_name``, name
        constraints ``permit``) under the fleet root kept there (made on first use)."""
        self.root = root
        self.home = root / "pki"
        self.users = root / "users"
        self.users.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.server_name = server_name
        self._count = 0
        self.fleet_root: PkiHome | None = None
        if fleet_root is None:
            pki_ca.init_ca(
                self.home, name="Harness Root CA", org="Harness Fleet", passphrase=self.passphrase
            )
        else:
            self.fleet_root = PkiHome(fleet_root)
            if not self.fleet_root.has_ca():
                fleet.make_root(fleet_root, self.passphrase, "Harness Fleet Root")
            made = fleet.make_site(
                self.fleet_root, self.home, f"{site_name} Issuing CA", permit, self.passphrase
            )
            self.site_serial = made.serial
        issue.issue_server(self.home, server_name, sans=["127.0.0.1"], passphrase=self.passphrase)
        self.ca = pki_ca.load_ca(self.home, self.passphrase)

    @property
    def passphrase(self) -> bytes:
        return CA_PASSPHRASE.encode()

    @property
    def ca_cert(self) -> Path:
        """The trust anchor clients verify the server with: the fleet root, or this CA."""
        if self.fleet_root is not None:
            return self.fleet_root.ca_cert
        return self.home / "ca" / "cert.pem"

    @property
    def own_ca_cert(self) -> Path:
        """This home's own CA certificate (an issuing CA's, in a fleet)."""
        return self.home / "ca" / "cert.pem"

    @property
    def crl(self) -> Path:
        return self.home / "ca" / "crl.pem"

    def env(self) -> dict[str, str]:
        """Environment for `pki` subprocesses (the CA passphrase from the environment)."""
        return self.env_for(self.home)

    @staticmethod
    def env_for(home: Path) -> dict[str, str]:
        """The same for any PKI home of the harness (the fleet root's, another site's)."""
        return {**os.environ, "PKI_HOME": str(home), "PKI_CA_PASSPHRASE": CA_PASSPHRASE}

    def _base(self, name: str) -> Path:
        self._count += 1
        return self.users / f"u{self._count}-{secrets.token_hex(3)}"

    def _from_p12(self, name: str, p12: Path, password: str, base: Path) -> UserCert:
        bundle = pkcs12.load_pkcs12(p12.read_bytes(), password.encode())
        assert bundle.cert is not None and bundle.key is not None
        cert = bundle.cert.certificate
        cert_pem = base.with_suffix(".crt.pem")
        cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_pem = _write_private(
            base.with_suffix(".key.pem"),
            bundle.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return UserCert(name, describe(cert), cert_pem, key_pem, p12, password)

    def issue_user(
        self,
        name: str,
        *,
        legacy: bool = False,
        email: str | None = None,
        org_unit: str | None = None,
    ) -> UserCert:
        """A user certificate from the ``pki`` library (the .p12 the CLI would write)."""
        base = self._base(name)
        password = secrets.token_urlsafe(12)
        request = issue.UserRequest(
            name,
            password=password.encode(),
            email=email,
            org_unit=org_unit,
            legacy=legacy,
            out=base.with_suffix(".p12"),
        )
        issued = issue.issue_user(self.home, request, passphrase=self.passphrase, ca=self.ca)
        assert issued.p12_path is not None
        return self._from_p12(name, issued.p12_path, password, base)

    def issue_user_cli(self, name: str, *, legacy: bool = False) -> UserCert:
        """The same through ``pki issue-user`` (password from a 0600 file, never argv)."""
        base = self._base(name)
        password = secrets.token_urlsafe(12)
        password_file = _write_private(base.with_suffix(".pw"), password.encode() + b"\n")
        argv = [
            str(BIN / "pki"),
            "issue-user",
            name,
            "--p12",
            "--out",
            str(base.with_suffix(".p12")),
        ]
        argv += ["--password-file", str(password_file)] + (["--legacy"] if legacy else [])
        subprocess.run(argv, env=self.env(), check=True, capture_output=True, timeout=60)
        return self._from_p12(name, base.with_suffix(".p12"), password, base)

    def revoke(self, cert: UserCert, reason: str = "keyCompromise") -> None:
        """``pki revoke`` + ``pki crl`` (the CLI, as an operator would)."""
        for argv in (["revoke", cert.serial, "--reason", reason], ["crl"]):
            subprocess.run(
                [str(BIN / "pki"), *argv],
                env=self.env(),
                check=True,
                capture_output=True,
                timeout=60,
            )

    # --- certificates pki will not make -------------------------------------------------------

    def forge(
        self,
        name: str,
        *,
        subject: x509.Name | None = None,
        ekus: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.CLIENT_AUTH,),
        is_ca: bool = False,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        signer: str = "ca",
    ) -> UserCert:
        """A certificate built with ``pki.profiles.build``.

        ``signer``: "ca" (the real CA key from the PKI home), "other-ca" (a fresh CA with the same
        name as ours, so only the signature tells them apart) or "self" (self-signed).
        """
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = subject or x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Harness Fleet"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        if signer == "ca":
            issuer: profiles.Issuer | None = self.ca.issuer()
        elif signer == "other-ca":
            other_key = ec.generate_private_key(ec.SECP256R1())
            issuer = profiles.Issuer(
                self.ca.cert.subject,
                other_key,
                x509.SubjectKeyIdentifier.from_public_key(other_key.public_key()),
            )
        else:
            issuer = None
        cert = profiles.build(
            profiles.Profile("forged", is_ca=is_ca, ekus=ekus),
            subject=subject,
            public_key=key.public_key(),
            issuer=issuer,
            self_key=key,
            serial=x509.random_serial_number(),
            not_before=not_before or now - dt.timedelta(hours=1),
            not_after=not_after or now + dt.timedelta(days=30),
        )
        return self.save_forged(name, cert, key)

    def save_forged(
        self, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> UserCert:
        """A certificate made by hand, written as the PEM pair the clients use."""
        base = self._base(name)
        cert_pem = base.with_suffix(".crt.pem")
        cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_pem = _write_private(
            base.with_suffix(".key.pem"),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return UserCert(name, describe(cert), cert_pem, key_pem)

    def load_cert(self, user: UserCert) -> x509.Certificate:
        return x509.load_pem_x509_certificate(user.cert_pem.read_bytes())

    def write_crl(self) -> None:
        pki_ca.write_crl(self.home, passphrase=self.passphrase)
