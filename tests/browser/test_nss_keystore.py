"""Chromium's own TLS stack and key store present the certificate: the user's .p12 is imported
into an NSS database with `pk12util`, exactly as a person does by hand (docs/webapp.md), and the
app then knows who they are. Playwright only drives the page here; it holds no certificate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LOAD_TIMEOUT_MS, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (shutil.which("pk12util") and shutil.which("certutil")),
        reason="needs pk12util and certutil (apt-get install libnss3-tools)",
    ),
]


def _nss(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, f"{args[0]}: {done.stderr.strip() or done.stdout.strip()}"
    return done.stdout


def _auto_select_profile(profile: Path, origin: str, issuer_cn: str) -> None:
    """A profile whose preferences pick the certificate by issuer for this origin, without the
    picker headless Chromium cannot show (the per-profile form of AutoSelectCertificateForUrls,
    so no host-wide policy file is needed)."""
    rule = {origin + ",*": {"setting": {"filters": [{"ISSUER": {"CN": issuer_cn}}]}}}
    prefs = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": rule}}}}
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))


def test_chromium_presents_the_p12_imported_with_pk12util(playwright, site, tmp_path):
    user = site.clerk
    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"  # where Chromium on Linux keeps client certificates
    nssdb.mkdir(parents=True)
    db = f"sql:{nssdb}"
    _nss("certutil", "-N", "-d", db, "--empty-password")
    ca = x509.load_pem_x509_certificate(site.stack.ca.read_bytes())
    issuer_cn = str(ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    _nss("certutil", "-A", "-d", db, "-n", issuer_cn, "-t", "C,,", "-i", str(site.stack.ca))
    password_file = tmp_path / "p12-password"
    password_file.write_text(user.password + "\n")
    os.chmod(password_file, 0o600)
    assert "PKCS12 IMPORT SUCCESSFUL" in _nss(
        "pk12util", "-i", str(user.p12), "-d", db, "-w", str(password_file)
    )
    listed = _nss("certutil", "-L", "-d", db)
    assert any(line.rstrip().endswith("u,u,u") for line in listed.splitlines()), listed

    profile = tmp_path / "profile"
    _auto_select_profile(profile, site.origin, issuer_cn)
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        env={**os.environ, "HOME": str(home)},
        viewport={"width": 1280, "height": 860},
    )
    try:
        context.set_default_timeout(LOAD_TIMEOUT_MS)
        page = context.new_page()
        response = page.goto(f"{site.origin}/", timeout=LOAD_TIMEOUT_MS)
        assert response is not None and response.status == 200
        page.wait_for_selector("body[data-ready=true]", timeout=LOAD_TIMEOUT_MS)
        assert page.locator("[data-field=subject_dn]").inner_text() == user.subject_dn
        me = json.loads(page.evaluate("fetch('/supply/api/whoami/').then(r => r.text())"))
        assert me["subject_dn"] == user.subject_dn
        assert me["roles"] == ["clerk", "issuer"]
        screenshot(page, "whoami-nss-keystore")
    finally:
        context.close()
