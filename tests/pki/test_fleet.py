"""The fleet hierarchy: an offline root, name-constrained issuing CAs, chains, imported CRLs.

Checked with the library, the CLI and real tools: openssl, pkilint, Java keytool, Python's ssl.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from pki import anchor_store, audit, bundles, profiles
from pki.ca import load_ca, write_crl
from pki.certinfo import load_pem
from pki.cli import app
from pki.crl import revoke
from pki.errors import CertificateError, InputError, NoCAError
from pki.fleet import import_ca, import_crl, init_issuing, read_request, sign_ca
from pki.home import PkiHome
from pki.issue import UserRequest, issue_server, issue_user
from pki.nginx import edge_config
from tests.harness import fleet
from tests.harness.fleet import Site
from tests.pki.checks import (
    assert_is_ca,
    assert_is_leaf,
    issue_users_concurrently,
    ok,
    tls_handshake,
)
from tests.pki.conftest import PASSPHRASE, PASSWORD, PEM_PASSWORD

ALPHA = ("alpha.fleet", "10.20.0.0/16", "@alpha.fleet")
BRAVO = ("bravo.fleet", "10.30.0.0/16", "@bravo.fleet")
ROOT_DN = "CN=Fleet Root CA,O=Fleet,C=US"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
    )


def make_root(path: Path) -> PkiHome:
    return fleet.make_root(path, PASSPHRASE)


def make_site(
    root: PkiHome, path: Path, name: str, permit: tuple[str, ...], *, import_root_crl: bool = True
) -> Site:
    return fleet.make_site(root, path, name, permit, PASSPHRASE, import_root_crl=import_root_crl)


@pytest.fixture
def root(tmp_path: Path) -> PkiHome:
    return make_root(tmp_path / "root")


@pytest.fixture
def alpha(root: PkiHome, tmp_path: Path) -> Site:
    return make_site(root, tmp_path / "alpha", "USS Alpha Issuing CA", ALPHA)


@pytest.fixture
def bravo(root: PkiHome, tmp_path: Path) -> Site:
    return make_site(root, tmp_path / "bravo", "USS Bravo Issuing CA", BRAVO)


def _certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


# --- the round trip through the CLI -------------------------------------------------------


def test_three_homes_round_trip_through_the_cli(tmp_path: Path, clean_env: None) -> None:
    env = {"PKI_CA_PASSPHRASE": PASSPHRASE.decode(), "PKI_P12_PASSWORD": PASSWORD.decode()}
    runner = CliRunner()

    def pki(home: str, *args: str | Path) -> str:
        return ok(runner.invoke(app, ["--home", str(tmp_path / home), *map(str, args)], env=env))

    def refused(home: str, *args: str | Path) -> str:
        result = runner.invoke(app, ["--home", str(tmp_path / home), *map(str, args)], env=env)
        assert result.exit_code == 1, result.output
        return result.stderr

    pki("root", "init-ca", "--name", "Fleet Root CA", "--org", "Fleet")
    for site, name, permits in (
        ("alpha", "USS Alpha Issuing CA", ALPHA),
        ("bravo", "USS Bravo Issuing CA", BRAVO),
    ):
        options = [part for value in permits for part in ("--permit", value)]
        made = pki(
            site,
            "init-ca",
            "--issuing",
            "--name",
            name,
            "--org",
            "Fleet",
            *options,
            "--csr-out",
            tmp_path / f"{site}.csr",
        )
        key_line = next(line for line in made.splitlines() if "key SHA-256:" in line)
        key_sha = key_line.split()[2]
        assert f"  asks:        permit {permits[0]}" in made
        pending = (
            "CA: This home's issuing CA is pending; import its certificate with "
            "`pki import-ca CERT --root ROOT`.\n"
        )
        assert refused(site, "issue-user", "Early Bird") == pending
        assert refused(site, "crl") == pending
        shown = pki(
            "root",
            "sign-ca",
            tmp_path / f"{site}.csr",
            "--out",
            tmp_path / f"{site}-ca.pem",
            "--yes",
        )
        assert f"Subject:      CN={name},O=Fleet\n" in shown
        assert f"Key:          ec-p256, SHA-256 {key_sha}\n" in shown
        assert [x for x in shown.splitlines() if x.startswith("Constraints:")] == [
            f"Constraints:  permit {v}" for v in permits
        ]
        imported = pki(
            site,
            "import-ca",
            tmp_path / f"{site}-ca.pem",
            "--root",
            tmp_path / "root" / "ca" / "cert.pem",
        )
        assert "this home now issues" in imported
        crl = pki(site, "import-crl", tmp_path / "root" / "ca" / "crl.pem")
        assert crl.startswith(
            "Imported CRL #1 of CN=Fleet Root CA,O=Fleet (0 revoked; next update "
        )

    pki(
        "alpha",
        "issue-user",
        "Jane Doe",
        "--email",
        "jane@alpha.fleet",
        "--out",
        tmp_path / "jane.p12",
    )
    pki("alpha", "issue-server", "web.alpha.fleet", "--san", "10.20.0.5")
    assert refused("alpha", "issue-server", "web.bravo.fleet") == (
        "name: web.bravo.fleet is outside this CA's name constraints (permitted: alpha.fleet).\n"
    )
    listed = json.loads(pki("root", "list", "--json"))
    assert sorted(row["name"] for row in listed) == [
        "Fleet Root CA",
        "USS Alpha Issuing CA",
        "USS Bravo Issuing CA",
    ]
    key, cert, chain = pkcs12.load_key_and_certificates(
        (tmp_path / "jane.p12").read_bytes(), PASSWORD
    )
    assert cert is not None and key is not None
    assert [c.subject.rfc4514_string() for c in chain] == [
        "CN=USS Alpha Issuing CA,O=Fleet",
        "CN=Fleet Root CA,O=Fleet",
    ]
    fullchain = _certs(tmp_path / "alpha" / "servers" / "web.alpha.fleet" / "fullchain.pem")
    assert [c.subject.rfc4514_string() for c in fullchain] == [
        "CN=web.alpha.fleet,O=Fleet",
        "CN=USS Alpha Issuing CA,O=Fleet",
        "CN=Fleet Root CA,O=Fleet",
    ]
    ops = [e["op"] for e in json.loads(pki("alpha", "log", "--json"))]
    assert ops == ["init-ca", "import-ca", "import-crl", "issue-user", "issue-server"]
    assert pki("alpha", "log", "--verify").startswith("Log OK: 5 entries, chained, ")
    root_ops = [e["op"] for e in json.loads(pki("root", "log", "--json"))]
    assert root_ops == ["init-ca", "sign-ca", "sign-ca"]


# --- profiles and real tools ----------------------------------------------------------------


def test_the_hierarchy_follows_the_ca_profiles(root: PkiHome, alpha: Site) -> None:
    root_cert = load_pem(root.ca_cert.read_bytes())
    issuing = load_pem(alpha.home.ca_cert.read_bytes())
    assert_is_ca(root_cert)
    assert_is_ca(issuing, root_cert, path_length=0)
    nc = issuing.extensions.get_extension_for_class(x509.NameConstraints)
    assert nc.critical
    assert nc.value.permitted_subtrees == [
        x509.DNSName("alpha.fleet"),
        x509.IPAddress(__import__("ipaddress").ip_network("10.20.0.0/16")),
        x509.RFC822Name("alpha.fleet"),
    ]
    assert nc.value.excluded_subtrees is None
    assert _certs(alpha.home.chain) == [root_cert]
    assert _certs(alpha.home.trust_bundle) == [issuing, root_cert]
    server = issue_server(alpha.home, "web.alpha.fleet", passphrase=PASSPHRASE)
    assert_is_leaf(
        load_pem(server.cert_path.read_bytes()), issuing, ExtendedKeyUsageOID.SERVER_AUTH
    )


def _leaves(site: Site) -> dict[str, Path]:
    server = issue_server(site.home, "web.alpha.fleet", sans=["10.20.0.5"], passphrase=PASSPHRASE)
    user = issue_user(
        site.home,
        UserRequest("Doe, Jane", password=PEM_PASSWORD, email="jane@alpha.fleet", pem=True),
        passphrase=PASSPHRASE,
    )
    return {"sslserver": server.cert_path, "sslclient": user.cert_path}


def test_openssl_verifies_leaves_strictly_through_the_chain_with_every_crl(
    root: PkiHome, alpha: Site
) -> None:
    for purpose, leaf in _leaves(alpha).items():
        result = run(
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            purpose,
            "-crl_check_all",
            "-CRLfile",
            alpha.home.crl_bundle,
            "-CAfile",
            root.ca_cert,
            "-untrusted",
            alpha.home.ca_cert,
            leaf,
        )
        assert (result.returncode, result.stdout) == (0, f"{leaf}: OK\n"), result.stderr
    # Without the root's CRL, a full CRL check fails: what nginx would do.
    result = run(
        "openssl",
        "verify",
        "-crl_check_all",
        "-CRLfile",
        alpha.home.crl,
        "-CAfile",
        root.ca_cert,
        "-untrusted",
        alpha.home.ca_cert,
        leaf,
    )
    assert (
        result.returncode == 2 and "unable to get certificate CRL" in result.stdout + result.stderr
    )


def test_pkilint_reports_no_error_on_the_hierarchy(root: PkiHome, alpha: Site) -> None:
    leaves = _leaves(alpha)
    for cert in (root.ca_cert, alpha.home.ca_cert, *leaves.values()):
        result = run(Path(sys.executable).parent / "lint_pkix_cert", "lint", "-s", "WARNING", cert)
        assert (result.returncode, result.stdout.strip()) == (0, ""), f"{cert}: {result.stdout}"
    for crl in (root.crl, alpha.home.crl):
        result = run(
            Path(sys.executable).parent / "lint_crl",
            "lint",
            "-t",
            "CRL",
            "-p",
            "PKIX",
            "-s",
            "WARNING",
            crl,
        )
        assert (result.returncode, result.stdout.strip()) == (0, ""), f"{crl}: {result.stdout}"


def test_keytool_reads_a_chained_p12(alpha: Site, tmp_path: Path) -> None:
    user = issue_user(alpha.home, UserRequest("Jane Doe", password=PASSWORD), passphrase=PASSPHRASE)
    assert user.p12_path is not None
    result = subprocess.run(
        [
            shutil.which("keytool") or "keytool",
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            str(user.p12_path),
        ],
        input=PASSWORD.decode() + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Certificate chain length: 3" in result.stdout
    assert "Issuer: CN=Fleet Root CA, O=Fleet, C=US" in result.stdout


def test_python_tls_handshake_through_the_chain(root: PkiHome, bravo: Site, tmp_path: Path) -> None:
    """A server of one site and a user of another meet trusting only the fleet root."""
    loop = make_site(root, tmp_path / "loop", "Loopback Issuing CA", ("localhost", "127.0.0.0/8"))
    server = issue_server(loop.home, "localhost", sans=["127.0.0.1"], passphrase=PASSPHRASE)
    user = issue_user(
        bravo.home,
        UserRequest("Sailor Bravo", password=PEM_PASSWORD, pem=True),
        passphrase=PASSPHRASE,
    )
    assert user.key_path is not None and user.pem_path is not None
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server.chain_path, server.key_path)
    server_ctx.load_verify_locations(root.ca_cert)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(root.ca_cert))
    client_ctx.load_cert_chain(user.pem_path, user.key_path, password=PEM_PASSWORD)
    peer = tls_handshake(server_ctx, client_ctx)
    assert peer["subject"] == ((("organizationName", "Fleet"),), (("commonName", "Sailor Bravo"),))


# --- name constraints -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sans", "message"),
    [
        (
            "web.bravo.fleet",
            (),
            "name: web.bravo.fleet is outside this CA's name constraints (permitted: alpha.fleet).",
        ),
        (
            "web.alpha.fleet",
            ("evilalpha.fleet",),
            "name: evilalpha.fleet is outside this CA's name constraints (permitted: alpha.fleet).",
        ),
        (
            "web.alpha.fleet",
            ("10.30.0.1",),
            "name: 10.30.0.1 is outside this CA's name constraints (permitted: 10.20.0.0/16).",
        ),
        (
            "10.21.0.1",
            (),
            "name: 10.21.0.1 is outside this CA's name constraints (permitted: 10.20.0.0/16).",
        ),
    ],
)
def test_a_server_outside_the_constraints_is_refused(
    alpha: Site, name: str, sans: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        issue_server(alpha.home, name, sans=sans, passphrase=PASSPHRASE)
    assert str(caught.value) == message
    assert not alpha.home.server_dir(name).exists()


def test_names_inside_the_constraints_are_issued(alpha: Site) -> None:
    issued = issue_server(
        alpha.home,
        "alpha.fleet",
        sans=["*.ops.alpha.fleet", "10.20.255.254"],
        passphrase=PASSPHRASE,
    )
    assert issued.info.sans == ("DNS:alpha.fleet", "DNS:*.ops.alpha.fleet", "IP:10.20.255.254")


@pytest.mark.parametrize(
    ("full_name", "email", "message"),
    [
        (
            "Jane Doe",
            "jane@bravo.fleet",
            "name: jane@bravo.fleet is outside this CA's name constraints "
            "(permitted: @alpha.fleet).",
        ),
        (
            "Jane Doe",
            "jane@mail.alpha.fleet",
            "name: jane@mail.alpha.fleet is outside this CA's name constraints "
            "(permitted: @alpha.fleet).",
        ),
        # OpenSSL reads a CN like this as a host name when there is no DNS SAN, and would refuse it.
        (
            "DOE.JANE.Q.1234567890",
            None,
            "name: doe.jane.q.1234567890 is outside this CA's name constraints "
            "(permitted: alpha.fleet).",
        ),
    ],
)
def test_a_user_outside_the_constraints_is_refused(
    alpha: Site, full_name: str, email: str | None, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        issue_user(
            alpha.home,
            UserRequest(full_name, password=PASSWORD, email=email),
            passphrase=PASSPHRASE,
        )
    assert str(caught.value) == message
    assert list(alpha.home.users_dir.iterdir()) == []


def _forge(
    site: Site, common_name: str, sans: list[x509.GeneralName], profile: profiles.Profile
) -> x509.Certificate:
    return fleet.forge_leaf(load_ca(site.home, PASSPHRASE), common_name, sans, profile)[0]


@pytest.mark.parametrize(
    ("common_name", "sans", "profile"),
    [
        ("web.bravo.fleet", [x509.DNSName("web.bravo.fleet")], profiles.SERVER),
        ("Jane Doe", [x509.RFC822Name("jane@bravo.fleet")], profiles.USER_WITH_EMAIL),
        ("DOE.JANE.Q.1234567890", [], profiles.USER),
    ],
)
def test_openssl_rejects_a_forged_leaf_outside_the_constraints(
    root: PkiHome,
    alpha: Site,
    tmp_path: Path,
    common_name: str,
    sans: list[x509.GeneralName],
    profile: profiles.Profile,
) -> None:
    forged = tmp_path / "forged.pem"
    forged.write_bytes(_forge(alpha, common_name, sans, profile).public_bytes(Encoding.PEM))
    result = run(
        "openssl", "verify", "-CAfile", root.ca_cert, "-untrusted", alpha.home.ca_cert, forged
    )
    assert result.returncode == 2
    assert "permitted subtree violation" in result.stdout + result.stderr


# --- revocation across the fleet ------------------------------------------------------------


def test_a_site_ca_revoked_at_the_root_fails_every_leaf_under_it(
    root: PkiHome, alpha: Site, bravo: Site, tmp_path: Path
) -> None:
    leaf = _leaves(alpha)["sslclient"]
    # Site B trusts site A: A's CA and A's CRL imported with --ca.
    imported = import_crl(bravo.home, alpha.home.crl.read_bytes(), ca_pem=alpha.ca_pem.read_bytes())
    assert imported.peer and imported.issuer_dn == "CN=USS Alpha Issuing CA,O=Fleet"
    check = (
        "openssl",
        "verify",
        "-crl_check_all",
        "-CRLfile",
        bravo.home.crl_bundle,
        "-CAfile",
        root.ca_cert,
        "-untrusted",
        bravo.home.trust_bundle,
        leaf,
    )
    assert run(*check).returncode == 0
    revoke(root, alpha.serial, "cACompromise")
    write_crl(root, passphrase=PASSPHRASE)
    assert import_crl(bravo.home, root.crl.read_bytes()).revoked == 1
    result = run(*check)
    assert result.returncode == 2 and "certificate revoked" in result.stdout + result.stderr


def test_the_root_cannot_revoke_itself_but_revokes_an_issuing_ca(
    root: PkiHome, alpha: Site
) -> None:
    own = load_pem(root.ca_cert.read_bytes())
    with pytest.raises(InputError) as caught:
        revoke(root, format(own.serial_number, "X"), "cACompromise")
    assert (
        str(caught.value) == "ID: The CA cannot revoke itself; retire the whole PKI home instead."
    )
    assert revoke(root, alpha.serial, "cACompromise").status == "revoked"


# --- refusals -------------------------------------------------------------------------------


def test_a_pending_home_says_so_and_cannot_be_initialised_again(
    root: PkiHome, tmp_path: Path
) -> None:
    site = PkiHome(tmp_path / "site")
    init_issuing(
        site, name="S", permit=["s.fleet"], csr_out=tmp_path / "s.csr", passphrase=PASSPHRASE
    )
    assert site.is_pending() and (tmp_path / "s.csr").read_bytes() == site.request.read_bytes()
    with pytest.raises(NoCAError) as caught:
        issue_user(site, UserRequest("X", password=PASSWORD), passphrase=PASSPHRASE)
    assert "pending" in str(caught.value)
    with pytest.raises(Exception) as again:
        init_issuing(
            site, name="S", permit=["s.fleet"], csr_out=tmp_path / "t.csr", passphrase=PASSPHRASE
        )
    assert str(again.value) == (
        f"CA: This home has a pending issuing CA ({site.request}); import its certificate with "
        "`pki import-ca`, or move ca/ away to start again."
    )


def _csr(tmp_path: Path, permit: tuple[str, ...] = ("s.fleet",)) -> bytes:
    site = PkiHome(tmp_path / f"site-{len(list(tmp_path.iterdir()))}")
    out = site.root.with_suffix(".csr")
    init_issuing(site, name="Site", permit=permit, csr_out=out, passphrase=PASSPHRASE)
    return out.read_bytes()


def test_sign_ca_refuses_a_csr_whose_signature_does_not_verify(tmp_path: Path) -> None:
    csr = x509.load_pem_x509_csr(_csr(tmp_path))
    der = bytearray(csr.public_bytes(Encoding.DER))
    der[-3] ^= 0x01  # inside the signature value
    with pytest.raises(CertificateError) as caught:
        read_request(bytes(der))
    assert str(caught.value) in (
        "CSR: Its signature does not verify; ask the site for a new one.",
        # A flipped bit can also break the DER of the ECDSA signature itself.
        "CSR: Not a certificate signing request (error parsing asn1 value).",
    )


def test_sign_ca_needs_constraints_unless_told(tmp_path: Path) -> None:
    csr = _csr(tmp_path, permit=())
    with pytest.raises(InputError) as caught:
        read_request(csr)
    assert str(caught.value) == (
        "constraints: The issuing CA would be unconstrained; give --permit (or --exclude), "
        "or pass --unconstrained to sign it anyway."
    )
    assert read_request(csr, unconstrained=True).constraints is None
    with pytest.raises(InputError):
        read_request(csr, permit=["x.fleet"], unconstrained=True)
    given = read_request(csr, permit=["x.fleet"], exclude=["10.9.0.0/16"])
    assert given.lines() == ["permit x.fleet", "exclude 10.9.0.0/16"]


def test_options_replace_what_the_csr_asks_for(root: PkiHome, tmp_path: Path) -> None:
    request = read_request(_csr(tmp_path, permit=("wide.fleet",)), permit=["narrow.wide.fleet"])
    assert request.lines() == ["permit narrow.wide.fleet"]
    signed = sign_ca(root, request, out=tmp_path / "ca.pem", passphrase=PASSPHRASE)
    cert = load_pem(signed.path.read_bytes())
    nc = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    assert nc.permitted_subtrees == [x509.DNSName("narrow.wide.fleet")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.20.0.1", "permit: '10.20.0.1' needs a prefix length, such as 10.20.0.1/32."),
        (
            "10.20.0.1/16",
            "permit: '10.20.0.1/16' is not an IP network (10.20.0.1/16 has host bits set).",
        ),
        ("@", "permit: '@' is not an email domain such as @example.fleet."),
        (
            "bad_name.fleet",
            "permit: 'bad_name.fleet' is not a DNS name (example.fleet), an IP network "
            "(10.20.0.0/16) or an email domain (@example.fleet).",
        ),
    ],
)
def test_bad_constraint_values_are_refused(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        init_issuing(
            PkiHome(tmp_path / "s"),
            name="S",
            permit=[value],
            csr_out=tmp_path / "s.csr",
            passphrase=PASSPHRASE,
        )
    assert str(caught.value) == message
    assert not (tmp_path / "s.csr").exists()


def test_only_a_root_with_room_below_signs_issuing_cas(
    root: PkiHome, alpha: Site, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as caught:
        sign_ca(
            alpha.home, read_request(_csr(tmp_path)), out=tmp_path / "x.pem", passphrase=PASSPHRASE
        )
    assert str(caught.value) == "CA: Only the fleet root signs issuing CAs; this home's CA is one."


def test_import_ca_checks_key_and_root(root: PkiHome, tmp_path: Path) -> None:
    other_root = make_root(tmp_path / "other-root")
    sites = []
    for name in ("one", "two"):
        home = PkiHome(tmp_path / name)
        init_issuing(
            home,
            name=name,
            permit=[f"{name}.fleet"],
            csr_out=tmp_path / f"{name}.csr",
            passphrase=PASSPHRASE,
        )
        signed = sign_ca(
            root,
            read_request((tmp_path / f"{name}.csr").read_bytes()),
            out=tmp_path / f"{name}.pem",
            passphrase=PASSPHRASE,
        )
        sites.append((home, signed.path.read_bytes()))
    (one, one_cert), (_, two_cert) = sites
    with pytest.raises(CertificateError) as caught:
        import_ca(one, two_cert, root.ca_cert.read_bytes(), passphrase=PASSPHRASE)
    assert str(caught.value) == (
        f"certificate: It is not for this home's pending key ({one.request}); "
        "it may be another site's."
    )
    with pytest.raises(CertificateError) as caught:
        import_ca(one, one_cert, other_root.ca_cert.read_bytes(), passphrase=PASSPHRASE)
    assert str(caught.value) == f"certificate: It was not signed by {ROOT_DN}."
    assert one.is_pending() and not one.chain.exists()
    import_ca(one, one_cert, root.ca_cert.read_bytes(), passphrase=PASSPHRASE)
    with pytest.raises(InputError) as done:
        import_ca(one, one_cert, root.ca_cert.read_bytes(), passphrase=PASSPHRASE)
    assert str(done.value) == "CA: This home has its CA already; nothing to import."


def _crl(
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate,
    number: int,
    next_update: dt.timedelta,
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - dt.timedelta(days=2))
        .next_update(now + next_update)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .add_extension(x509.CRLNumber(number), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return crl.public_bytes(Encoding.PEM)


def test_import_crl_refusals(root: PkiHome, alpha: Site, bravo: Site, tmp_path: Path) -> None:
    root_ca = load_ca(root, PASSPHRASE)
    assert isinstance(root_ca.key, ec.EllipticCurvePrivateKey)
    cases = [
        (
            alpha.home.crl.read_bytes(),
            None,
            "CRL: That is this home's own CRL; `pki crl` makes it.",
        ),
        (
            bravo.home.crl.read_bytes(),
            None,
            "CRL: Its issuer CN=USS Bravo Issuing CA,O=Fleet is not a CA above this one; for "
            "another site's CRL give that site's CA with --ca.",
        ),
        (
            _crl(ec.generate_private_key(ec.SECP256R1()), root_ca.cert, 9, dt.timedelta(days=9)),
            None,
            f"CRL: Its signature does not verify with {ROOT_DN}.",
        ),
        (
            _crl(root_ca.key, root_ca.cert, 9, dt.timedelta(days=-1)),
            None,
            "CRL: It expired at ",
        ),
        (b"not a crl", None, "CRL: Not a CRL ("),
        (
            bravo.home.crl.read_bytes(),
            make_root(tmp_path / "foreign").ca_cert.read_bytes(),
            # Another fleet's root of the same name: its CAs do not verify against ours.
            f"CA: It was not signed by {ROOT_DN}.",
        ),
    ]
    before = alpha.home.crl_bundle.read_bytes()
    for data, ca_pem, message in cases:
        with pytest.raises((CertificateError, InputError)) as caught:
            import_crl(alpha.home, data, ca_pem=ca_pem)
        assert str(caught.value).startswith(message)
    assert (
        import_crl(alpha.home, _crl(root_ca.key, root_ca.cert, 5, dt.timedelta(days=9))).number == 5
    )
    with pytest.raises(InputError) as caught:
        import_crl(alpha.home, _crl(root_ca.key, root_ca.cert, 4, dt.timedelta(days=9)))
    assert str(caught.value) == "CRL: #4 is older than the kept #5; nothing changed."
    assert alpha.home.crl_bundle.read_bytes() != before
    assert len(_crl_blocks(alpha.home.crl_bundle)) == 2


def _crl_blocks(path: Path) -> list[bytes]:
    return [b for b in path.read_bytes().split(b"-----END X509 CRL-----") if b.strip()]


def test_nginx_config_needs_a_crl_for_every_ca(root: PkiHome, tmp_path: Path) -> None:
    site = make_site(
        root, tmp_path / "lone", "Lone Issuing CA", ("lone.fleet",), import_root_crl=False
    )
    issue_server(site.home, "web.lone.fleet", passphrase=PASSPHRASE)
    with pytest.raises(Exception) as caught:
        edge_config(site.home, "web.lone.fleet", "127.0.0.1:8000", web_root=tmp_path)
    assert str(caught.value) == (
        f"CRL: No CRL of {ROOT_DN} in this home, and nginx refuses every client without one; "
        "carry it from its CA's host and run `pki import-crl FILE`."
    )
    import_crl(site.home, root.crl.read_bytes())
    config = edge_config(site.home, "web.lone.fleet", "127.0.0.1:8000", web_root=tmp_path)
    # nginx reads the edge bundles: with no other anchor, the local bundles' bytes.
    assert config.ca_cert == anchor_store.edge_trust(site.home).resolve()
    assert config.crl == anchor_store.edge_crls(site.home).resolve()
    assert config.ca_cert.read_bytes() == site.home.trust_bundle.read_bytes()
    assert config.crl.read_bytes() == site.home.crl_bundle.read_bytes()
    assert config.verify_depth == 1


def test_warnings_name_an_imported_crl_that_expires(
    root: PkiHome, alpha: Site, clean_env: None
) -> None:
    root_ca = load_ca(root, PASSPHRASE)
    assert isinstance(root_ca.key, ec.EllipticCurvePrivateKey)
    import_crl(alpha.home, _crl(root_ca.key, root_ca.cert, 7, dt.timedelta(days=3)))
    result = CliRunner().invoke(app, ["--home", str(alpha.home.root), "list"])
    assert result.exit_code == 0
    assert f"WARNING: the CRL of {ROOT_DN} expires at " in result.stderr
    assert (
        "Carry a fresh one from its CA's host, run `pki import-crl FILE` and reload nginx."
        in result.stderr
    )


def test_concurrent_issue_user_processes_on_an_issuing_ca(alpha: Site) -> None:
    printed = issue_users_concurrently(
        alpha.home.root, [f"Sailor {i}" for i in range(6)], PASSPHRASE, PASSWORD
    )
    with alpha.home.index() as index:
        users = index.rows("WHERE kind = 'user'")
    assert {row.serial for row in users} == printed
    assert {row.issuer_dn for row in users} == {"CN=USS Alpha Issuing CA,O=Fleet"}
    audit.verify(alpha.home)
    assert [e.op for e in audit.entries(alpha.home)].count("issue-user") == 6
    for p12 in alpha.home.users_dir.glob("*.p12"):
        _, _, chain = pkcs12.load_key_and_certificates(p12.read_bytes(), PASSWORD)
        assert len(chain) == 2
    assert bundles.missing_crls(alpha.home) == []


def test_a_restored_site_home_keeps_its_chain_and_imported_crls(
    root: PkiHome, alpha: Site, bravo: Site, tmp_path: Path
) -> None:
    from pki.backup import backup, restore

    import_crl(alpha.home, bravo.home.crl.read_bytes(), ca_pem=bravo.ca_pem.read_bytes())
    archive = tmp_path / "alpha.backup"
    backup(alpha.home, archive, passphrase=b"backup passphrase long enough")
    restored = PkiHome(tmp_path / "restored")
    restore(archive, restored.root, passphrase=b"backup passphrase long enough")
    assert restored.trust_bundle.read_bytes() == alpha.home.trust_bundle.read_bytes()
    assert restored.crl_bundle.read_bytes() == alpha.home.crl_bundle.read_bytes()
    assert bundles.missing_crls(restored) == []
    user = issue_user(
        restored, UserRequest("After Restore", password=PASSWORD), passphrase=PASSPHRASE
    )
    assert user.p12_path is not None
    _, _, chain = pkcs12.load_key_and_certificates(user.p12_path.read_bytes(), PASSWORD)
    assert [c.subject.rfc4514_string() for c in chain] == [
        "CN=USS Alpha Issuing CA,O=Fleet",
        "CN=Fleet Root CA,O=Fleet,C=US",
    ]
