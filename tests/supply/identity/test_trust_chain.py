"""The service's trust store over a fleet: whole chains, every CA's CRL, name constraints.

Runs on the files ``pki`` writes (``ca/trust.pem``, ``ca/crls.pem``), with no web stack.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from pki.ca import load_ca, write_crl
from pki.crl import revoke
from pki.fleet import import_crl
from pki.home import PkiHome
from pki.issue import UserRequest, issue_user
from supply.identity.errors import LoginFailure
from supply.identity.trust import TrustStore
from tests.harness.fleet import Site, forge_leaf, make_root, make_site

PASSPHRASE = b"fleet test passphrase"
PASSWORD = b"p12-password"


@pytest.fixture
def root(tmp_path: Path) -> PkiHome:
    return make_root(tmp_path / "root", PASSPHRASE)


@pytest.fixture
def alpha(root: PkiHome, tmp_path: Path) -> Site:
    return make_site(root, tmp_path / "alpha", "Alpha Issuing CA", ("alpha.fleet",), PASSPHRASE)


@pytest.fixture
def bravo(root: PkiHome, tmp_path: Path) -> Site:
    return make_site(root, tmp_path / "bravo", "Bravo Issuing CA", ("bravo.fleet",), PASSPHRASE)


def _store(site: Site) -> TrustStore:
    return TrustStore(site.home.trust_bundle, site.home.crl_bundle)


def _user(site: Site, name: str, email: str | None = None) -> str:
    issued = issue_user(
        site.home, UserRequest(name, password=PASSWORD, email=email), passphrase=PASSPHRASE
    )
    return issued.cert_path.read_text()


def _refused(store: TrustStore, pem: str) -> str:
    with pytest.raises(LoginFailure) as caught:
        store.verify(pem)
    return str(caught.value)


def test_a_user_of_the_site_is_accepted_with_the_whole_chain(alpha: Site) -> None:
    info = _store(alpha).verify(_user(alpha, "Alpha Sailor", "sailor@alpha.fleet"))
    assert info.issuer_dn == "CN=Alpha Issuing CA,O=Fleet"


def test_a_user_of_another_site_needs_its_ca_and_crl_here(alpha: Site, bravo: Site) -> None:
    visitor = _user(alpha, "Visitor")
    assert _refused(_store(bravo), visitor) == "certificate: Not issued by a trusted CA."
    import_crl(bravo.home, alpha.home.crl.read_bytes(), ca_pem=alpha.ca_pem.read_bytes())
    assert _store(bravo).verify(visitor).subject_dn == "CN=Visitor,O=Fleet"


def test_a_missing_or_expired_crl_of_a_ca_above_fails_closed(root: PkiHome, tmp_path: Path) -> None:
    site = make_site(
        root,
        tmp_path / "lone",
        "Lone Issuing CA",
        ("lone.fleet",),
        PASSPHRASE,
        import_root_crl=False,
    )
    pem = _user(site, "Lone Sailor")
    assert _refused(_store(site), pem) == (
        "certificate: No valid CRL from the CA above CN=Lone Issuing CA,O=Fleet."
    )
    root_ca = load_ca(root, PASSPHRASE)
    now = dt.datetime.now(dt.UTC)
    ski = root_ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    stale = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_ca.cert.subject)
        .last_update(now - dt.timedelta(days=40))
        .next_update(now - dt.timedelta(days=10))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .add_extension(x509.CRLNumber(99), critical=False)
        .sign(root_ca.key, hashes.SHA256())
    )
    # What an operator who copied an old root CRL by hand would leave (import-crl refuses it).
    bundle = site.home.crl_bundle
    bundle.write_bytes(bundle.read_bytes() + stale.public_bytes(Encoding.PEM))
    assert _refused(TrustStore(site.home.trust_bundle, bundle), pem) == (
        "certificate: The CRL of the CA above CN=Lone Issuing CA,O=Fleet has expired; run "
        "`pki crl` on its CA's host (then `pki import-crl` here if that is another host)."
    )


def test_a_site_ca_revoked_at_the_root_refuses_its_users(
    root: PkiHome, alpha: Site, bravo: Site
) -> None:
    visitor = _user(alpha, "Visitor")
    import_crl(bravo.home, alpha.home.crl.read_bytes(), ca_pem=alpha.ca_pem.read_bytes())
    store = _store(bravo)
    store.verify(visitor)  # cached from here on: the CRLs are still read on every request
    revoke(root, alpha.serial, "cACompromise")
    write_crl(root, passphrase=PASSPHRASE)
    import_crl(bravo.home, root.crl.read_bytes())
    assert _refused(store, visitor) == "certificate: Its CA CN=Alpha Issuing CA,O=Fleet is revoked."
    assert store.verify(_user(bravo, "Local")).subject_dn == "CN=Local,O=Fleet"


def _forged(site: Site, common_name: str, sans: list[x509.GeneralName]) -> str:
    cert, _ = forge_leaf(load_ca(site.home, PASSPHRASE), common_name, sans)
    return cert.public_bytes(Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("common_name", "sans"),
    [
        ("Jane Doe", [x509.DNSName("jane.bravo.fleet")]),
        # No SAN, and a CN that OpenSSL reads as a host name: nginx refuses it; so do we.
        ("DOE.JANE.Q.1234567890", []),
    ],
)
def test_a_forged_leaf_outside_the_constraints_is_refused(
    alpha: Site, common_name: str, sans: list[x509.GeneralName]
) -> None:
    assert _refused(_store(alpha), _forged(alpha, common_name, sans)) == (
        "certificate: Outside the name constraints of its CA."
    )
