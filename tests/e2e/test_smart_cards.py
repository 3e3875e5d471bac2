"""Smart cards through the real edge: a SoftHSM2 token stands in for a CAC / PIV card (its key is
made on the token and never leaves it), curl and ``openssl s_client`` use it through OpenSSL's
pkcs11 engine, nginx checks the chain up to the national PKI's root (``pki trust add``) and the
service maps the card by its UPN. The CRL cases run with CRLs made to expire: within an anchor's
grace its cards still log in, past it they are refused with what to do, and nobody of another
anchor or of the site's own CA is affected."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from pki.certinfo import describe
from tests.harness.cards import (
    CA,
    CARD_POLICY,
    NationalPki,
    card_certificate,
    make_national_pki,
    software_card,
)
from tests.harness.fixtures import TOOLS, require_database, require_tools
from tests.harness.pki_site import UserCert
from tests.harness.softhsm import Card, missing_tools
from tests.harness.stack import EdgeStack

WHOAMI = "/supply/api/whoami/"
EDIPI = "1234567890"
UPN = f"{EDIPI}@mil"


@dataclass
class Site:
    stack: EdgeStack
    dod: NationalPki
    nato: NationalPki
    media: Path

    def reload(self) -> None:
        """What the site's admin does after `pki trust ...`: render nginx's config, reload."""
        assert self.stack.nginx is not None and self.stack.supply is not None
        self.stack.render_config(self.stack.nginx.config, self.stack.supply.bind)
        self.stack.nginx.reload()

    def import_crl(self, anchor: str, data: bytes) -> None:
        path = self.media / f"{anchor}-{secrets.token_hex(4)}.crl"
        path.write_bytes(data)
        self.stack.pki_command("trust", "import-crl", anchor, str(path))
        self.reload()

    def card(self, ca: CA, name: str, common_name: str, upn: str) -> tuple[Card, Path]:
        """A token with a key made on it, and the chain file of the certificate issued to it."""
        token = Card.make(self.media / name, label=name)
        cert = card_certificate(ca, token.public_key(), common_name=common_name, upn=upn)
        chain = self.media / f"{name}-chain.pem"
        chain.write_bytes(cert.public_bytes(Encoding.PEM) + ca.pem)
        return token, chain

    def login(self, token: Card, chain: Path) -> tuple[int, dict[str, object]]:
        reply = token.curl(
            self.stack.url(WHOAMI),
            cert_chain=chain,
            ca=self.stack.pki.ca_cert,
            resolve=f"localhost:{self.stack.port}:127.0.0.1",
        )
        return reply.status, reply.json()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    require_tools(*TOOLS)
    if missing_tools():
        pytest.skip(f"needs {', '.join(missing_tools())} (apt-get install softhsm2 opensc "
                    "libengine-pkcs11-openssl; CI installs them)")  # fmt: skip
    require_database()
    with EdgeStack.running(tmp_path / "edge") as stack:
        media = tmp_path / "media"
        media.mkdir()
        dod, nato = make_national_pki("DoD"), make_national_pki("NATO")
        found = Site(stack, dod, nato, media)
        for name, pki, extra in (
            ("dod", dod, ["--require-policy", CARD_POLICY, "--crl-grace", "5"]),
            ("nato", nato, []),
        ):
            bundle, crls = pki.write(media / name)
            crl_args = [arg for crl in crls for arg in ("--crl", str(crl))]
            stack.pki_command(
                "trust", "add", name, "--ca", str(bundle), "--identity", "upn", *crl_args, *extra
            )
        found.reload()
        yield found


def software_user(site: Site, ca: CA, common_name: str, upn: str) -> UserCert:
    """A card certificate with its key in a file, for curl's plain PEM client (another card)."""
    cert, key = software_card(ca, common_name, upn)
    base = site.media / f"soft-{secrets.token_hex(3)}"
    cert_pem, key_pem = base.with_suffix(".crt.pem"), base.with_suffix(".key.pem")
    cert_pem.write_bytes(cert.public_bytes(Encoding.PEM) + ca.pem)
    key_pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    key_pem.chmod(0o600)
    return UserCert(common_name, describe(cert), cert_pem, key_pem)


def test_a_card_on_a_token_logs_in_through_nginx_and_a_reissued_card_is_the_same_user(
    site: Site,
) -> None:
    token, chain = site.card(site.dod.ca1, "jane", f"DOE.JANE.Q.{EDIPI}", UPN)
    assert token.private_key_is_on_the_token_only()
    status, body = site.login(token, chain)
    assert (status, body["code"]) == (403, "certificate_unknown"), body

    site.stack.supply_command("grant", "--anchor", "dod", "--upn", UPN, "--role", "clerk")
    status, body = site.login(token, chain)
    assert status == 200, body
    assert (body["anchor"], body["identity_rule"], body["identity_value"]) == ("dod", "upn", UPN)
    assert (body["roles"], body["crl_state"]) == (["clerk"], "fresh")
    assert body["subject_dn"] == f"CN=DOE.JANE.Q.{EDIPI},O=U.S. Government,C=US"

    # openssl s_client with the same token.
    out = token.s_client(site.stack.port, WHOAMI, cert_chain=chain, ca=site.stack.pki.ca_cert)
    assert "HTTP/1.1 200 OK" in out, out[-2000:]
    assert f'"identity_value":"{UPN}"' in out

    # Reissued: a new card (new key on a new token), from the other ID CA of the same anchor.
    new_token, new_chain = site.card(site.dod.ca2, "jane2", f"DOE.JANE.Q.{EDIPI}", UPN)
    status, again = site.login(new_token, new_chain)
    assert status == 200, again
    assert again["username"] == body["username"] and again["serial"] != body["serial"]

    # The same EDIPI on another anchor's card is not Jane.
    nato = software_user(site, site.nato.ca1, f"DOE.JANE.Q.{EDIPI}", UPN)
    refused = site.stack.curl(WHOAMI, user=nato)
    assert (refused.status, refused.json()["code"]) == (403, "certificate_unknown")
    # A card whose CN and UPN disagree never logs in, even with the UPN granted.
    liar = software_user(site, site.dod.ca1, "DOE.JANE.Q.1234567899", UPN)
    reply = site.stack.curl(WHOAMI, user=liar)
    assert reply.status == 403
    assert reply.json()["detail"] == (
        f"certificate: Its UPN {UPN} does not match the EDIPI at the end of its CN "
        "'DOE.JANE.Q.1234567899'."
    )


def test_crl_grace_and_anchor_removal_through_nginx(site: Site) -> None:
    token, chain = site.card(site.dod.ca1, "jane", f"DOE.JANE.Q.{EDIPI}", UPN)
    site.stack.supply_command("grant", "--anchor", "dod", "--upn", UPN, "--role", "viewer")
    nato = software_user(site, site.nato.ca1, "ROE.RICHARD.7777777777", "7777777777@mil")
    site.stack.supply_command(
        "grant", "--anchor", "nato", "--upn", "7777777777@mil", "--role", "viewer"
    )
    local = site.stack.new_user("Local Sailor", role="viewer")
    assert site.login(token, chain)[0] == 200

    # ID CA-70's CRL ran out two days ago, within dod's 5-day grace: nginx lets it through.
    site.import_crl("dod", site.dod.ca1.crl(next_update=dt.timedelta(days=-2), number=2))
    status, body = site.login(token, chain)
    assert (status, body.get("crl_state")) == (200, "grace"), body
    # Nine days: past the grace. Refused, with the anchor and the command; others untouched.
    site.import_crl("dod", site.dod.ca1.crl(next_update=dt.timedelta(days=-9), number=3))
    status, body = site.login(token, chain)
    assert status == 403, body
    detail = str(body["detail"])
    assert detail.startswith("certificate: The CRL of CN=DoD ID CA-70,O=U.S. Government,C=US ")
    assert "`pki trust import-crl dod FILE`" in detail
    assert site.stack.curl(WHOAMI, user=nato).status == 200
    assert site.stack.curl(WHOAMI, user=local).status == 200
    # A fresh CRL from the media: back in.
    site.import_crl("dod", site.dod.ca1.crl(number=4))
    status, body = site.login(token, chain)
    assert (status, body["crl_state"]) == (200, "fresh")

    # Removing the anchor: its cards are refused (nginx no longer knows the CA) at once.
    site.stack.pki_command("trust", "remove", "dod")
    site.reload()
    status, body = site.login(token, chain)
    assert (status, body["code"]) == (403, "certificate_rejected")
    assert site.stack.curl(WHOAMI, user=nato).status == 200


def test_without_a_grace_nginx_checks_every_crl_and_refuses_only_that_cas_cards(
    site: Site,
) -> None:
    assert site.stack.nginx is not None
    assert "ssl_crl" not in _directives(site.stack.nginx.config.read_text()), "dod has a grace"
    site.stack.pki_command("trust", "remove", "dod")  # nato alone: no grace anywhere
    site.reload()
    assert "ssl_crl" in _directives(site.stack.nginx.config.read_text())
    nato = software_user(site, site.nato.ca1, "ROE.RICHARD.7777777777", "7777777777@mil")
    other = software_user(site, site.nato.ca2, "POE.PAT.5555555555", "5555555555@mil")
    for upn in ("7777777777@mil", "5555555555@mil"):
        site.stack.supply_command("grant", "--anchor", "nato", "--upn", upn, "--role", "viewer")
    local = site.stack.new_user("Local Clerk", role="viewer")
    assert site.stack.curl(WHOAMI, user=nato).status == 200
    # NATO ID CA-70's CRL runs out: nginx refuses that CA's cards at the handshake...
    site.import_crl("nato", site.nato.ca1.crl(next_update=dt.timedelta(days=-1), number=2))
    refused = site.stack.curl(WHOAMI, user=nato)
    assert (refused.status, refused.json()["code"]) == (403, "certificate_rejected")
    # ...and nobody else's: the other CA of the same anchor, and the site's own users.
    assert site.stack.curl(WHOAMI, user=other).status == 200
    assert site.stack.curl(WHOAMI, user=local).status == 200


def _directives(config: str) -> str:
    """The configuration without its comments."""
    return "\n".join(line.split("#", 1)[0] for line in config.splitlines())


def test_expired_and_revoked_cards_are_refused_through_nginx(site: Site) -> None:
    site.stack.supply_command("grant", "--anchor", "dod", "--upn", UPN, "--role", "viewer")
    good = software_user(site, site.dod.ca1, f"DOE.JANE.Q.{EDIPI}", UPN)
    assert site.stack.curl(WHOAMI, user=good).status == 200
    cert, key = software_card(
        site.dod.ca1,
        f"DOE.JANE.Q.{EDIPI}",
        UPN,
        valid=(dt.timedelta(days=-30), dt.timedelta(days=-1)),
    )
    base = site.media / "expired"
    base.with_suffix(".crt.pem").write_bytes(cert.public_bytes(Encoding.PEM) + site.dod.ca1.pem)
    base.with_suffix(".key.pem").write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    expired = UserCert(
        "expired", describe(cert), base.with_suffix(".crt.pem"), base.with_suffix(".key.pem")
    )
    refused = site.stack.curl(WHOAMI, user=expired)
    assert (refused.status, refused.json()["code"]) == (403, "certificate_rejected")  # by nginx
    # Revoked: dod has a grace, so its CRLs are the service's; the new CRL counts at once.
    site.dod.ca1.revoked.append(int(good.info.serial, 16))
    site.import_crl("dod", site.dod.ca1.crl(number=2))
    revoked = site.stack.curl(WHOAMI, user=good)
    assert (revoked.status, revoked.json()["detail"]) == (403, "certificate: Revoked.")
