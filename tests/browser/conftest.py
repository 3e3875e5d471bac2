"""Fixtures of the browser tests: one `make run` stack per xdist worker with a few more users, and
Debian's Chromium driven by Playwright (never `playwright install`: it downloads a browser)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from pki.certinfo import describe
from tests.browser.stack import REPO, DemoStack, add_user, start_demo_on_a_free_port, stop_demo

CHROMIUM = "/usr/bin/chromium"
# Root needs --no-sandbox; Debian's wrapper misjudges /dev/shm, so say it ourselves; the rest keeps
# the browser from reaching for the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOAD_TIMEOUT_MS = 30_000
EXPIRING_DAYS = 10
ARTIFACTS = REPO / "test-artifacts" / "browser"


def missing_tools() -> list[str]:
    """Why the browser tests cannot run here (empty when they can)."""
    reasons = []
    if not Path(CHROMIUM).exists():
        reasons.append("Debian's chromium (apt-get install chromium)")
    if not shutil.which("nginx"):
        reasons.append("nginx (apt-get install nginx)")
    return reasons


@dataclass(frozen=True)
class User:
    p12: Path
    password: str
    subject_dn: str


@dataclass(frozen=True)
class Site:
    stack: DemoStack
    admin: User
    clerk: User  # clerk and issuer: receipt, stow and issue
    viewer: User
    stranger: User  # a valid certificate from our CA that nobody granted anything
    expiring: User  # a viewer whose certificate expires in EXPIRING_DAYS days

    @property
    def origin(self) -> str:
        return self.stack.origin


def _user(p12: Path, password: str) -> User:
    bundle = pkcs12.load_pkcs12(p12.read_bytes(), password.encode())
    assert bundle.cert is not None
    return User(p12, password, describe(bundle.cert.certificate).subject_dn)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if missing_tools():
        pytest.skip("needs " + " and ".join(missing_tools()))
    stack = start_demo_on_a_free_port(tmp_path_factory.mktemp("stack"))
    try:
        yield Site(
            stack=stack,
            admin=_user(stack.p12, stack.password),
            clerk=_user(*add_user(stack, "Dana Clerk", ("clerk", "issuer"))),
            viewer=_user(*add_user(stack, "Val Viewer", ("viewer",))),
            stranger=_user(*add_user(stack, "Sam Stranger", ())),
            expiring=_user(*add_user(stack, "Eve Expiring", ("viewer",), days=EXPIRING_DAYS)),
        )
    finally:
        stop_demo(stack)


@pytest.fixture(scope="session")
def playwright(site: Site) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's own proxy does the TLS handshake when it presents a client certificate, so its
    # Node side must trust our CA; it reads this once, when the driver starts.
    os.environ["NODE_EXTRA_CA_CERTS"] = str(site.stack.ca)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[object]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def open_as(browser, site: Site) -> Iterator[Callable[..., object]]:
    """open_as(user or None, route="", viewport=..., origin=the stack's) -> a page of the app,
    loaded and ready."""
    contexts = []
    js_errors: list[str] = []

    def open_page(
        user: User | None,
        route: str = "",
        width: int = 1280,
        height: int = 860,
        origin: str | None = None,
    ):
        origin = origin or site.origin
        options: dict[str, object] = {"viewport": {"width": width, "height": height}}
        if user is None:
            # Chromium itself checks the server then; it does not know our CA.
            options["ignore_https_errors"] = True
        else:
            options["client_certificates"] = [
                {"origin": origin, "pfxPath": str(user.p12), "passphrase": user.password}
            ]
        context = browser.new_context(**options)
        context.set_default_timeout(LOAD_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: js_errors.append(str(exc)))
        response = page.goto(f"{origin}/#/{route}", timeout=LOAD_TIMEOUT_MS)
        # A failed TLS check in Playwright's proxy shows up as a 503 page, not an exception.
        assert response is not None and response.status == 200, response and response.status
        page.wait_for_selector("body[data-ready=true]", timeout=LOAD_TIMEOUT_MS)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert js_errors == [], "the page threw JavaScript errors"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/browser/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
