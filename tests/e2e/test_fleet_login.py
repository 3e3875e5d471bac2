"""Two sites under one fleet root, through real nginx and supply at site B.

A user of site B logs in; a user of site A passes TLS at B once A's CA and CRL are imported there
and is then asked to get a grant (403 with the DN and the grant command), then logs in. After A's
CA is revoked at the root and the root's CRL is carried to B, A's users are refused: by the
service at once, by nginx from its next reload. A leaf forged with B's own key for a name outside
B's constraints is refused by nginx and by the service.
"""

from __future__ import annotations

import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from tests.harness.fixtures import TOOLS, require_database, require_tools
from tests.harness.fleet import forge_leaf
from tests.harness.pki_site import BIN, PkiSite, UserCert
from tests.harness.stack import EdgeStack

WHOAMI = "/supply/api/whoami/"


@dataclass(frozen=True)
class Fleet:
    root: Path  # the fleet root's PKI home
    alpha: PkiSite  # site A: its PKI home only
    bravo: EdgeStack  # site B: PKI home, supply and nginx


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_tools(*TOOLS)
    require_database()
    base = tmp_path_factory.mktemp("fleet")
    alpha = PkiSite(
        base / "alpha",
        server_name="web.alpha.fleet",
        fleet_root=base / "root",
        site_name="Alpha",
        permit=("alpha.fleet", "127.0.0.0/8"),
    )
    with EdgeStack.running(base / "bravo", fleet_root=base / "root") as bravo:
        yield Fleet(base / "root", alpha, bravo)


def _pki(home: Path, *args: str | Path) -> str:
    done = subprocess.run(
        [str(BIN / "pki"), "--home", str(home), *map(str, args)],
        env=PkiSite.env_for(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _forged(site: PkiSite, san: x509.GeneralName) -> UserCert:
    """A client certificate signed with the site's real key, for a name pki would refuse."""
    cert, key = forge_leaf(site.ca, "Forged Sailor", [san])
    return site.save_forged("Forged Sailor", cert, key)


def test_users_of_both_sites_and_a_revoked_site_ca(fleet: Fleet) -> None:
    bravo, alpha = fleet.bravo, fleet.alpha
    local = bravo.new_user("Bravo Sailor", role="viewer")
    reply = bravo.curl(WHOAMI, user=local)
    assert reply.status == 200
    assert reply.json()["issuer_dn"] == "CN=Harness Site Issuing CA,O=Fleet"

    visitor = alpha.issue_user("Alpha Sailor")
    # B knows nothing of A's CA yet: nginx cannot check A's CRL, so the handshake's verdict fails.
    assert bravo.curl(WHOAMI, user=visitor).json()["code"] == "certificate_rejected"

    _pki(bravo.pki.home, "import-crl", alpha.crl, "--ca", alpha.own_ca_cert)
    assert bravo.nginx is not None
    bravo.nginx.reload()
    unknown = bravo.curl(WHOAMI, user=visitor)
    assert unknown.status == 403
    body = unknown.json()
    assert body["code"] == "certificate_unknown"
    assert body["subject_dn"] == "CN=Alpha Sailor,O=Fleet"
    assert body["issuer_dn"] == "CN=Alpha Issuing CA,O=Fleet"
    assert body["grant_command"].startswith("supply grant ")

    bravo.supply_command("grant", "--cert", str(visitor.cert_pem), "--role", "viewer")
    welcome = bravo.curl(WHOAMI, user=visitor)
    assert welcome.status == 200
    assert welcome.json()["roles"] == ["viewer"]

    # The root revokes A's issuing CA and signs its CRL; the CRL is carried to B.
    _pki(fleet.root, "revoke", alpha.site_serial, "--reason", "cACompromise")
    _pki(fleet.root, "crl", "--days", "180")
    _pki(bravo.pki.home, "import-crl", fleet.root / "ca" / "crl.pem")
    refused = bravo.curl(WHOAMI, user=visitor)  # nginx has not reloaded: the service refuses
    assert refused.status == 403
    assert refused.json()["detail"] == "certificate: Its CA CN=Alpha Issuing CA,O=Fleet is revoked."
    bravo.nginx.reload()
    assert bravo.curl(WHOAMI, user=visitor).json()["code"] == "certificate_rejected"
    assert bravo.curl(WHOAMI, user=local).status == 200  # B's own users are unaffected


def test_a_forged_leaf_outside_the_constraints_is_refused_by_nginx_and_the_service(
    fleet: Fleet,
) -> None:
    bravo = fleet.bravo
    # Site B may certify localhost and 127.0.0.0/8 only.
    forged = _forged(bravo.pki, x509.DNSName("sailor.other.fleet"))
    reply = bravo.curl(WHOAMI, user=forged)
    assert reply.status == 403
    assert reply.json()["code"] == "certificate_rejected"
    # Past nginx (a request with the proxy secret straight to gunicorn): the service refuses too.
    pem = forged.cert_pem.read_text()
    direct = bravo.direct(
        WHOAMI,
        {
            "X-Proxy-Secret": bravo.proxy_secret,
            "X-Client-Verify": "SUCCESS",
            "X-Client-Cert": urllib.parse.quote(pem),
            "Accept": "application/json",
        },
    )
    assert direct.status == 403
    assert direct.json()["detail"] == "certificate: Outside the name constraints of its CA."
