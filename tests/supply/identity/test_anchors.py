"""Smart cards of other PKIs (trust anchors added with ``pki trust add``) logging in to the
service: identity by the anchor's rule, one account across a card's reissue, refusals named, CRL
grace, and one anchor's stale CRL never locking out another's users."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.parse
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import call_command
from django.test import Client

from pki import anchors
from pki.ca import init_ca
from pki.home import PkiHome
from pki.issue import UserRequest, issue_user
from supply.identity.models import CertificateIdentity
from tests.harness.cards import (
    CARD_POLICY,
    NationalPki,
    make_national_pki,
    software_card,
)

pytestmark = pytest.mark.django_db
PASSPHRASE = b"correct horse battery"
WHOAMI = "/supply/api/whoami/"
EDIPI = "1234567890"


@dataclass
class Site:
    home: PkiHome
    dod: NationalPki
    nato: NationalPki
    local_user: str  # PEM of a certificate of the site's own CA


@pytest.fixture
def site(tmp_path: Path, settings: Any) -> Site:
    home = PkiHome(tmp_path / "pki")
    init_ca(home, name="Site CA", org="Fleet", passphrase=PASSPHRASE)
    dod, nato = make_national_pki("DoD"), make_national_pki("NATO")
    anchors.add(
        home, "dod", dod.bundle, crls=dod.crls(), identity="upn",
        require_policies=[CARD_POLICY], crl_grace_days=5, default_role="viewer",
    )  # fmt: skip
    anchors.add(home, "nato", nato.bundle, crls=nato.crls(), identity="upn")
    issued = issue_user(
        home, UserRequest("Local Sailor", password=b"p12-password-here"), passphrase=PASSPHRASE
    )
    secret = secrets.token_urlsafe(32)
    (tmp_path / "proxy-secret").write_text(secret + "\n")
    settings.SUPPLY_TRUSTED_CA = home.trust_bundle
    settings.SUPPLY_CRL = home.crl_bundle
    settings.SUPPLY_TRUST_ANCHORS = home.root / "trust" / "anchors.json"
    settings.SUPPLY_PROXY_SECRET_FILE = tmp_path / "proxy-secret"
    settings.SUPPLY_IDENTITY_CACHE_DIR = tmp_path / "identity-cache"
    settings.SUPPLY_TEST_SECRET = secret
    local_pem = issued.cert_path.read_text()
    return Site(home, dod, nato, local_pem)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode("ascii")


def whoami(settings: Any, certificate: str) -> Any:
    headers = {
        "HTTP_X_PROXY_SECRET": settings.SUPPLY_TEST_SECRET,
        "HTTP_X_CLIENT_VERIFY": "SUCCESS",
        "HTTP_X_CLIENT_CERT": urllib.parse.quote(certificate),
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    return Client().get(WHOAMI, **headers)


def refusal(settings: Any, certificate: str) -> str:
    reply = whoami(settings, certificate)
    assert reply.status_code == 403, reply.content
    detail: str = reply.json()["detail"]
    return detail


def card(pki: NationalPki, which: int = 1, **kwargs: Any) -> str:
    ca = pki.ca1 if which == 1 else pki.ca2
    kwargs.setdefault("common_name", f"DOE.JANE.Q.{EDIPI}")
    kwargs.setdefault("upn", f"{EDIPI}@mil")
    cert, _ = software_card(ca, **kwargs)
    return pem(cert)


def grant_upn(anchor: str, upn: str, role: str = "clerk") -> None:
    call_command("grant", "--anchor", anchor, "--upn", upn, "--role", role)


def test_a_card_logs_in_by_its_upn_and_a_reissued_card_reaches_the_same_user(
    site: Site, settings: Any
) -> None:
    first = card(site.dod, 1)
    # dod has a default role: an unknown card asks for an account; a grant answers it.
    assert refusal(settings, first).startswith("certificate: Your account request of ")
    grant_upn("dod", f"{EDIPI}@mil")
    reply = whoami(settings, first)
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert (body["anchor"], body["identity_rule"], body["identity_value"]) == (
        "dod", "upn", f"{EDIPI}@mil"
    )  # fmt: skip
    assert (body["roles"], body["crl_state"]) == (["clerk"], "fresh")
    # Reissued: a new key and serial, from the other ID CA of the same anchor. No admin step.
    reissued = card(site.dod, 2)
    again = whoami(settings, reissued).json()
    assert again["username"] == body["username"] and again["serial"] != body["serial"]
    assert again["issuer_dn"] != body["issuer_dn"]
    [mapping] = CertificateIdentity.objects.all()
    assert (mapping.anchor, mapping.value, mapping.subject_dn) == ("dod", f"{EDIPI}@mil", "")


def test_the_same_edipi_under_another_anchor_is_someone_else(site: Site, settings: Any) -> None:
    grant_upn("dod", f"{EDIPI}@mil")
    assert whoami(settings, card(site.dod)).status_code == 200
    assert refusal(settings, card(site.nato, policies=())).startswith(
        "certificate: Not registered here"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"common_name": "DOE.JANE.Q.1234567899"},
            f"certificate: Its UPN {EDIPI}@mil does not match the EDIPI at the end of its CN "
            "'DOE.JANE.Q.1234567899'.",
        ),
        ({"upn": None}, "certificate: No UPN in its SAN; anchor dod names people by their UPN."),
        (
            {"policies": ()},
            f"certificate: It does not assert the policy {CARD_POLICY} that anchor dod requires.",
        ),
        (
            {"valid": (dt.timedelta(days=-30), dt.timedelta(days=-1))},
            "certificate: Expired on ",
        ),
    ],
)
def test_a_card_that_breaks_a_rule_is_refused_with_the_reason(
    site: Site, settings: Any, kwargs: dict[str, Any], message: str
) -> None:
    grant_upn("dod", f"{EDIPI}@mil")
    assert refusal(settings, card(site.dod, **kwargs)).startswith(message)


def test_a_revoked_card_is_refused_once_its_crl_arrives(site: Site, settings: Any) -> None:
    grant_upn("dod", f"{EDIPI}@mil")
    cert, _ = software_card(site.dod.ca1, f"DOE.JANE.Q.{EDIPI}", f"{EDIPI}@mil")
    assert whoami(settings, pem(cert)).status_code == 200
    site.dod.ca1.revoked.append(cert.serial_number)
    anchors.import_crl(site.home, "dod", site.dod.ca1.crl(number=2))
    assert refusal(settings, pem(cert)) == "certificate: Revoked."


def test_a_stale_crl_of_one_anchor_keeps_its_grace_and_never_locks_out_another(
    site: Site, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    grant_upn("dod", f"{EDIPI}@mil")
    grant_upn("nato", "7777777777@mil")
    call_command("grant", "--cert", str(_write(site, site.local_user)), "--role", "viewer")
    nato_card = card(site.nato, common_name="ROE.RICHARD.7777777777", upn="7777777777@mil")
    # dod's ID CA-70 CRL expired two days ago: within its 5-day grace.
    anchors.import_crl(
        site.home, "dod", site.dod.ca1.crl(next_update=dt.timedelta(days=-2), number=2)
    )
    within = whoami(settings, card(site.dod, 1))
    assert within.status_code == 200, within.content
    assert within.json()["crl_state"] == "grace"
    assert "trust anchor dod: the CRL of CN=DoD ID CA-70" in caplog.text
    assert whoami(settings, card(site.dod, 2)).json()["crl_state"] == "fresh", "the other ID CA"
    # Past the grace: that CA's cards are refused, with what to do; nobody else is.
    anchors.import_crl(
        site.home, "dod", site.dod.ca1.crl(next_update=dt.timedelta(days=-9), number=3)
    )
    message = refusal(settings, card(site.dod, 1))
    assert message.startswith(
        "certificate: The CRL of CN=DoD ID CA-70,O=U.S. Government,C=US (anchor dod) expired at "
    )
    assert message.endswith(
        ", and its 5-day grace with it; bring a fresh CRL and run `pki trust import-crl dod FILE` "
        "on the site's PKI host."
    )
    assert whoami(settings, card(site.dod, 2)).status_code == 200
    assert whoami(settings, nato_card).status_code == 200
    assert whoami(settings, site.local_user).status_code == 200
    # nato has no grace: one day past nextUpdate is refused at once.
    anchors.import_crl(
        site.home, "nato", site.nato.ca1.crl(next_update=dt.timedelta(days=-1), number=2)
    )
    assert "(anchor nato) expired at " in refusal(settings, nato_card)
    assert whoami(settings, card(site.dod, 2)).status_code == 200


def test_removing_an_anchor_refuses_its_cards_at_once(site: Site, settings: Any) -> None:
    grant_upn("dod", f"{EDIPI}@mil")
    dod_card = card(site.dod)
    assert whoami(settings, dod_card).status_code == 200
    anchors.remove(site.home, "dod")
    assert refusal(settings, dod_card) == "certificate: Not issued by a trusted CA."
    listed = [r for r in _identities() if r["anchor"] == "dod"]
    assert [(r["rule"], r["value"]) for r in listed] == [(None, f"{EDIPI}@mil")]


def test_grant_checks_the_anchor_and_its_rule(site: Site, settings: Any) -> None:
    from django.core.management.base import CommandError

    anchors.add(site.home, "mail", make_national_pki("Mail").bundle, identity="email")
    with pytest.raises(CommandError) as caught:
        grant_upn("army", f"{EDIPI}@mil")
    assert str(caught.value) == "anchor: No trust anchor 'army'; `pki trust list` shows them."
    with pytest.raises(CommandError) as caught:
        grant_upn("mail", f"{EDIPI}@mil")
    assert str(caught.value) == "anchor: mail names people by email, not by upn; give --email."
    with pytest.raises(CommandError) as caught:
        call_command("grant", "--upn", f"{EDIPI}@mil", "--role", "clerk")
    assert str(caught.value) == "--anchor: --upn needs the anchor it is under: --anchor NAME."
    # --cert finds the anchor and the value itself.
    path = _write(site, card(site.dod, 2))
    call_command("grant", "--cert", str(path), "--role", "issuer")
    [row] = _identities()
    assert (row["anchor"], row["rule"], row["value"], row["roles"]) == (
        "dod", "upn", f"{EDIPI}@mil", ["issuer"]
    )  # fmt: skip
    assert whoami(settings, card(site.dod, 1)).json()["roles"] == ["issuer"]


def _write(site: Site, certificate: str) -> Path:
    path = site.home.root.parent / f"cert-{secrets.token_hex(4)}.pem"
    path.write_text(certificate)
    return path


def _identities() -> list[dict[str, Any]]:
    from supply.identity.services import identities

    return identities()


def test_an_unknown_card_of_an_anchor_with_a_default_role_asks_for_an_account_once(
    site: Site, settings: Any
) -> None:
    """dod's default role is viewer: the first login makes an inactive account request, which
    an administrator approves in one step; nothing is granted before that."""
    first = whoami(settings, card(site.dod, 1))
    assert first.status_code == 403
    body = first.json()
    assert body["code"] == "certificate_pending"
    assert body["detail"].startswith("certificate: Your account request of ")
    assert body["detail"].endswith(" UTC waits for an administrator's approval (`supply approve`).")
    # Again, and from the reissued card: the same one request.
    assert whoami(settings, card(site.dod, 2)).json()["code"] == "certificate_pending"
    out = StringIO()
    call_command("requests", "--json", stdout=out)
    [request] = json.loads(out.getvalue())
    assert (request["anchor"], request["value"], request["role"]) == (
        "dod",
        f"{EDIPI}@mil",
        "viewer",
    )
    [row] = _identities()
    assert (row["active"], row["roles"]) == (False, [])

    out = StringIO()
    call_command("approve", request["username"], stdout=out)
    assert out.getvalue() == f"{request['username']} is active with viewer.\n"
    reply = whoami(settings, card(site.dod, 1))
    assert (reply.status_code, reply.json()["roles"]) == (200, ["viewer"])
    out = StringIO()
    call_command("requests", stdout=out)
    assert out.getvalue() == "No account requests.\n"
    # An anchor without a default role asks nothing: the card is unknown, with the command.
    unknown = whoami(settings, card(site.nato, policies=())).json()
    assert unknown["code"] == "certificate_unknown"
    assert unknown["grant_command"] == f"supply grant --anchor nato --upn {EDIPI}@mil --role viewer"


def test_approving_what_nobody_asked_for_is_refused(site: Site) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as caught:
        call_command("approve", "nobody")
    assert (
        str(caught.value)
        == "username: No account request of 'nobody'; `supply requests` lists them."
    )
