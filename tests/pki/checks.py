"""Checkers of the RFC 5280 profiles and of CLI results, reused by the unit and interop tests."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import Result


def assert_is_ca(
    cert: x509.Certificate, issuer: x509.Certificate | None = None, *, path_length: int = 1
) -> None:
    """The CA profile: a self-signed root (pathLen 1), or with ``issuer`` an issuing CA (0)."""
    issuer = issuer or cert
    ext = cert.extensions
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is True and bc.value.path_length == path_length
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == issuer_ski.digest
    assert cert.issuer == issuer.subject
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name in ("sha256", "sha384")
    cert.verify_directly_issued_by(issuer)


def assert_is_leaf(
    cert: x509.Certificate, issuer: x509.Certificate, eku: x509.ObjectIdentifier
) -> None:
    ext = cert.extensions
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not ku.value.key_cert_sign and not ku.value.crl_sign
    assert ku.value.key_encipherment is isinstance(cert.public_key(), rsa.RSAPublicKey)
    ekus = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert eku in ekus
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in ekus
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == issuer_ski.digest
    assert cert.issuer == issuer.subject
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name in ("sha256", "sha384")
    cert.verify_directly_issued_by(issuer)
    # Random serials (RFC 5280 4.1.2.2, CA/B BR 7.1): > 64 bits, positive, at most 20 octets.
    assert 2**64 < cert.serial_number < 2**159


def key_type_name(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ec-p{key.curve.key_size}"
    assert isinstance(key, rsa.RSAPublicKey)
    return f"rsa-{key.key_size}"


def ok(result: Result) -> str:
    """A command that succeeded; its standard output."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def fails(result: Result, message: str) -> None:
    """A command refused with exactly one line, ``message``, and no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr == message + "\n"
    assert "Traceback" not in result.stdout + result.stderr


def issue_users_concurrently(
    home: Path, names: list[str], passphrase: bytes, password: bytes
) -> set[str]:
    """``pki issue-user NAME`` for every name, all processes at once; the serials they printed."""
    env = {
        **os.environ,
        "PKI_HOME": str(home),
        "PKI_CA_PASSPHRASE": passphrase.decode(),
        "PKI_P12_PASSWORD": password.decode(),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pki.cli", "issue-user", name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for name in names
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(names), outputs
    printed = {out.split()[3] for out, _ in outputs}
    assert len(printed) == len(names)
    return printed


def tls_handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext) -> dict[str, object]:
    """One real TLS handshake on loopback (server name 127.0.0.1); the client certificate the
    server saw, as ``getpeercert()`` gives it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    seen: dict[str, object] = {}

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            seen["peer"] = tls.getpeercert()
            tls.sendall(b"hello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with (
        socket.create_connection(listener.getsockname(), timeout=10) as raw,
        client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.recv(5) == b"hello"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    thread.join(10)
    listener.close()
    peer = seen["peer"]
    assert isinstance(peer, dict)
    return peer
