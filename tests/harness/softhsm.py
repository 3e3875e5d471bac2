"""A smart card for the tests: a SoftHSM2 token (Debian's softhsm2) whose key is generated on the
token and never leaves it, and the clients that log in with it through OpenSSL's pkcs11 engine
(Debian's libengine-pkcs11-openssl): curl and ``openssl s_client``.

The token's PINs are throwaway values of a test token. ``softhsm2-util --init-token`` takes them
only as arguments; pkcs11-tool reads the user PIN from the environment (``--pin env:NAME``), and
curl and s_client get it from a 0600 OpenSSL config that loads the engine with its ``PIN``
(``OPENSSL_CONF``), so the key URI they are given names the key and no secret.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key

from tests.harness.clients import TIMEOUT, Reply, _curl_quote

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")


def missing_tools() -> list[str]:
    """What the smart-card tests need that this machine lacks (CI installs all of it)."""
    missing = [tool for tool in ("softhsm2-util", "pkcs11-tool") if shutil.which(tool) is None]
    if not MODULE.is_file():
        missing.append(str(MODULE))
    engines = list(Path("/usr/lib").glob("*/engines-3/pkcs11.so"))
    if not engines:
        missing.append("libengine-pkcs11-openssl")
    return missing


@dataclass
class Card:
    """One token with one EC P-256 key pair made on it (label ``auth``)."""

    directory: Path
    label: str
    pin: str

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SOFTHSM2_CONF": str(self.directory / "softhsm2.conf"),
            "OPENSSL_CONF": str(self.directory / "openssl.cnf"),
        }

    @classmethod
    def make(cls, directory: Path, label: str = "card") -> Card:
        (directory / "tokens").mkdir(parents=True, mode=0o700)
        (directory / "softhsm2.conf").write_text(
            f"directories.tokendir = {directory / 'tokens'}\n"
            "objectstore.backend = file\nlog.level = ERROR\n"
        )
        card = cls(directory, label, str(secrets.randbelow(10**8)).zfill(8))
        so_pin = str(secrets.randbelow(10**8)).zfill(8)
        fd = os.open(directory / "openssl.cnf", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                "openssl_conf = openssl_init\n[openssl_init]\nengines = engine_section\n"
                "[engine_section]\npkcs11 = pkcs11_section\n[pkcs11_section]\n"
                f"engine_id = pkcs11\nMODULE_PATH = {MODULE}\nPIN = {card.pin}\ninit = 0\n"
            )
        card._run(
            "softhsm2-util", "--init-token", "--free", "--label", label,
            "--pin", card.pin, "--so-pin", so_pin,
        )  # fmt: skip
        card._tool("--login", "--pin", "env:CARD_PIN", "--keypairgen", "--key-type",
                   "EC:prime256v1", "--id", "01", "--label", "auth")  # fmt: skip
        return card

    def _run(self, *argv: str) -> str:
        env = {**self.env, "CARD_PIN": self.pin}
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        assert done.returncode == 0, (argv[0], done.stdout, done.stderr)
        return done.stdout

    def _tool(self, *args: str) -> str:
        return self._run("pkcs11-tool", "--module", str(MODULE), "--token-label", self.label, *args)

    def public_key(self) -> CertificatePublicKeyTypes:
        """The card's public key, read off the token (the private key cannot be)."""
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pub.der"
            self._tool("--read-object", "--type", "pubkey", "--id", "01", "-o", str(out))
            return load_der_public_key(out.read_bytes())  # type: ignore[return-value]

    def private_key_is_on_the_token_only(self) -> bool:
        """The token lists the private key as sensitive and never extractable."""
        listing = self._tool(
            "--login", "--pin", "env:CARD_PIN", "--list-objects", "--type", "privkey"
        )
        return "Private Key Object" in listing and "never extractable" in listing

    @property
    def key_uri(self) -> str:
        return f"pkcs11:token={self.label};object=auth;type=private"

    def curl(self, url: str, *, cert_chain: Path, ca: Path, resolve: str | None = None) -> Reply:
        """GET ``url`` with curl, the TLS client key used on the token through the engine."""
        with tempfile.TemporaryDirectory() as tmp:
            config, body, head = Path(tmp) / "curl.cfg", Path(tmp) / "body", Path(tmp) / "head"
            lines = [
                "engine = pkcs11",
                "key-type = ENG",
                f"key = {_curl_quote(self.key_uri)}",
                f"cert = {_curl_quote(str(cert_chain))}",
                f"cacert = {_curl_quote(str(ca))}",
            ]
            fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write("\n".join(lines) + "\n")
            argv = ["curl", "-sS", "-K", str(config), "-o", str(body), "-D", str(head)]
            argv += ["-w", "%{http_code}", "--max-time", str(TIMEOUT)]
            if resolve:
                argv += ["--resolve", resolve]
            done = subprocess.run(
                [*argv, url], env=self.env, capture_output=True, text=True, timeout=TIMEOUT + 5,
                check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            headers = {}
            for line in head.read_text().splitlines()[1:]:
                name, _, value = line.partition(":")
                if value:
                    headers[name.strip().lower()] = value.strip()
            return Reply(int(done.stdout), body.read_text(), headers)

    def s_client(self, port: int, path: str, *, cert_chain: Path, ca: Path) -> str:
        """GET ``path`` over ``openssl s_client`` with the token's key (the engine's key form)."""
        argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"]
        argv += ["-engine", "pkcs11", "-keyform", "engine", "-key", self.key_uri]
        argv += ["-cert", str(cert_chain), "-CAfile", str(ca), "-ign_eof", "-quiet"]
        request = f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
        done = subprocess.run(
            argv, input=request, env=self.env, capture_output=True, text=True, timeout=TIMEOUT,
            check=False,
        )  # fmt: skip
        return done.stdout + done.stderr
