"""A smart-card holder of another PKI in the web app: who-am-I names the anchor, the rule and the
UPN, and a revocation list in its grace shows a banner. Headless Chromium gets the card's
certificate as a .p12 (Playwright cannot reach a PKCS#11 token; the token itself is tested with
curl and s_client in tests/e2e/test_smart_cards.py)."""

from __future__ import annotations

import datetime as dt
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from tests.browser.conftest import Site, User, screenshot
from tests.browser.stack import BIN, run
from tests.harness.cards import CARD_POLICY, NationalPki, make_national_pki, software_card
from tests.harness.make_run import RunDir, render_nginx

pytestmark = pytest.mark.browser
UPN = "1234567890@mil"


def _reload(site: Site) -> None:
    """What the site admin does after `pki trust ...`: render nginx's config again, reload it."""
    demo = RunDir(site.stack.root)
    render_nginx(demo, "127.0.0.1", site.stack.port, site.stack.env)
    done = subprocess.run(
        ["nginx", "-p", f"{demo.nginx_dir}/", "-c", str(demo.nginx_conf), "-e",
         str(demo.nginx_dir / "error.log"), "-s", "reload"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _pki(site: Site, *args: str) -> None:
    run([str(BIN / "pki"), "--home", str(site.stack.root / "pki"), *args], site.stack.env)


@pytest.fixture
def dod(site: Site, tmp_path: Path) -> Iterator[NationalPki]:
    """The demo site trusting a national PKI, with a 5-day CRL grace (removed afterwards)."""
    pki = make_national_pki("DoD")
    bundle, crls = pki.write(tmp_path / "media")
    crl_args = [arg for crl in crls for arg in ("--crl", str(crl))]
    _pki(site, "trust", "add", "dod", "--ca", str(bundle), "--identity", "upn",
         "--require-policy", CARD_POLICY, "--crl-grace", "5", *crl_args)  # fmt: skip
    _reload(site)
    try:
        yield pki
    finally:
        _pki(site, "trust", "remove", "dod")
        _reload(site)


def test_a_card_holder_sees_their_anchor_and_a_crl_in_its_grace(
    open_as, site: Site, dod: NationalPki, tmp_path: Path
) -> None:
    cert, key = software_card(dod.ca1, "DOE.JANE.Q.1234567890", UPN)
    password = secrets.token_urlsafe(12)
    p12 = tmp_path / "card.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"card", key, cert, [dod.ca1.cert], BestAvailableEncryption(password.encode())
        )
    )
    run([str(BIN / "supply"), "grant", "--anchor", "dod", "--upn", UPN, "--role", "viewer"],
        site.stack.env)  # fmt: skip
    card = User(p12, password, cert.subject.rfc4514_string())

    page = open_as(card)
    assert page.locator("[data-field=anchor]").inner_text() == f"dod: by the UPN {UPN}"
    assert page.locator("[data-field=crl]").inner_text().startswith("up to date until ")
    assert page.locator("#expiry-banner").is_hidden()

    expired = tmp_path / "ca70.crl"
    expired.write_bytes(dod.ca1.crl(next_update=dt.timedelta(days=-2), number=2))
    _pki(site, "trust", "import-crl", "dod", str(expired))
    page = open_as(card)
    # The banner at the top of every page, who-am-I included.
    warning = page.locator("#expiry-banner").inner_text()
    assert warning.startswith(
        "The revocation list of your card's authority (dod) is out of date since "
    )
    assert warning.endswith(
        "You can still sign in for a limited time; your site's administrator must import a fresh "
        "one."
    )
    assert page.locator("[data-field=crl]").inner_text().startswith("out of date since ")
    screenshot(page, "whoami-card-crl-grace")
