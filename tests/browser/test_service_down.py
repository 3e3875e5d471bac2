"""nginx up and the supply service down: the web app and the edge's own 503 page say so."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot
from tests.browser.stack import BIN, REPO, run
from tests.harness.processes import Nginx, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def origin_without_service(site, tmp_path: Path) -> Iterator[str]:
    """A second nginx from the stack's PKI, whose upstream socket nobody listens on."""
    edge, port = tmp_path / "edge", free_port()
    edge.mkdir()
    conf = edge / "nginx.conf"
    run(
        [
            str(BIN / "pki"), "--home", str(site.stack.root / "pki"), "nginx-config",
            "--server", "localhost", "--upstream", f"unix:{edge}/nobody.sock",
            "--listen", f"127.0.0.1:{port}", "--web-root", str(REPO / "nginx"),
            "--static-root", str(site.stack.root / "data" / "static"),
            "--runtime-dir", str(edge), "--out", str(conf),
            *(["--user", "root"] if os.geteuid() == 0 else []),
        ],
        site.stack.env,
    )  # fmt: skip
    nginx = Nginx(edge, conf, port)
    try:
        yield f"https://localhost:{port}"
    finally:
        nginx.stop()


def test_with_the_service_down_the_page_says_so_and_not_to_install_a_certificate(
    open_as, site, origin_without_service
):
    page = open_as(site.clerk, origin=origin_without_service)
    assert page.locator("h1").inner_text() == "The supply service is not answering"
    assert page.locator("#nocert-reason").inner_text() == (
        "The service is not available yet: it is starting or stopped; try again in a minute. "
        "If it lasts, tell your administrator (the service answered HTTP 503)."
    )
    assert page.locator("#identity-summary").inner_text() == "Service not available"
    assert page.locator("main h2").count() == 0, "no installation steps: the certificate is fine"
    screenshot(page, "service-down-app")

    response = page.goto(f"{origin_without_service}/supply/admin/")
    assert response is not None and response.status == 503
    assert page.locator("h1").inner_text() == "The service is not available yet"
    screenshot(page, "service-down-admin")
