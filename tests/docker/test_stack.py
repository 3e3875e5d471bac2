"""docker/compose.yaml brought up in the real engine with the images built from the shipped
Dockerfiles: start order, a .p12 login through the proxy container, receipt -> stow -> issue, the
proxy without the service, graceful stops, and data kept across `down` and `up`.

The tests of this module share one stack and run in file order on one worker (xdist_group)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.docker.engine import build, docker
from tests.docker.stack import ComposeStack
from tests.harness.pki_site import UserCert

pytestmark = pytest.mark.xdist_group("compose-stack")

TAG = "stack-test"
DEMO_UNIT, CUSTOMER_UNIT, NSN = "W1A2B3", "W4D5E6", "6505013324567"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeStack]:
    for name in ("supply", "proxy", "postgres"):
        build(name, TAG)
    stack = ComposeStack(tmp_path_factory.mktemp("stack"), TAG)
    try:
        stack.up()
        stack.compose.run("migrate", "supply", "load-demo")
        yield stack
    finally:
        stack.compose.down()


@pytest.fixture(scope="module")
def clerk(stack: ComposeStack) -> UserCert:
    return stack.new_user("Clerk, Carla", "clerk", "issuer", "viewer")


def services_state(stack: ComposeStack) -> dict[str, str]:
    out = stack.compose("ps", "--all", "--format", "{{.Service}} {{.State}}").stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if line.strip())


def test_up_migrates_once_then_serves(stack: ComposeStack) -> None:
    assert services_state(stack) == {
        "db": "running",
        "migrate": "exited",
        "supply": "running",
        "proxy": "running",
    }
    code = docker("inspect", "--format", "{{.State.ExitCode}}", stack.compose.container("migrate"))
    assert code.stdout.strip() == "0"
    logs = stack.compose("logs", "migrate").stdout
    assert "Applying inventory.0001_initial... OK" in logs


def test_only_the_proxy_publishes_a_port_and_only_on_loopback(stack: ComposeStack) -> None:
    published = {}
    for service in ("db", "supply", "proxy"):
        out = docker("port", stack.compose.container(service), check=False).stdout.strip()
        if out:
            published[service] = out
    assert published == {"proxy": f"8443/tcp -> 127.0.0.1:{stack.port}"}


def test_readyz_and_the_web_app_load_through_the_proxy(stack: ComposeStack) -> None:
    ready = stack.curl("/supply/readyz")
    assert (ready.status, ready.json()) == (200, {"status": "ready"})
    page = stack.curl("/")
    assert page.status == 200
    assert "<title>Supply — tactical-edge</title>" in page.body
    script = stack.curl("/js/app.js")
    assert script.status == 200
    assert "import" in script.body


def test_a_p12_user_receives_stows_and_issues_through_the_proxy(
    stack: ComposeStack, clerk: UserCert
) -> None:
    whoami = stack.curl("/supply/api/whoami/", clerk)
    assert whoami.status == 200, whoami.body
    assert whoami.json()["subject_dn"] == clerk.info.subject_dn
    before_recv = stack.stock(clerk, NSN, "RECV")
    before_bin = stack.stock(clerk, NSN, "A-01")
    steps = [
        ("/supply/api/receipts/", {"location": "RECV", "quantity": 7}),
        ("/supply/api/stows/", {"from_location": "RECV", "to_location": "A-01", "quantity": 5}),
        (
            "/supply/api/issues/",
            {"location": "A-01", "customer_unit": CUSTOMER_UNIT, "quantity": 3},
        ),
    ]
    for n, (path, fields) in enumerate(steps, 1):
        body = {"unit": DEMO_UNIT, "nsn": NSN, "document_number": f"W1A2B3-6338-000{n}", **fields}
        reply = stack.curl(path, clerk, method="POST", body=body)
        assert reply.status == 201, reply.body
        assert reply.json()["user"].startswith("Clerk_Carla")
    assert stack.stock(clerk, NSN, "RECV") == before_recv + 7 - 5
    assert stack.stock(clerk, NSN, "A-01") == before_bin + 5 - 3


def test_a_certificate_without_a_grant_is_refused(stack: ComposeStack) -> None:
    stranger = stack.pki.issue_user("Stranger, Sam")
    reply = stack.curl("/supply/api/whoami/", stranger)
    assert reply.status == 403
    assert reply.json()["code"] == "certificate_unknown"


def test_the_proxy_answers_503_without_the_service_and_recovers_alone(
    stack: ComposeStack, clerk: UserCert
) -> None:
    stack.compose("stop", "supply")
    try:
        down = stack.curl("/supply/api/whoami/", clerk)
        assert down.status == 503
        assert down.headers["content-type"].startswith("application/json")
        assert stack.curl("/").status == 200  # the web app is nginx's own
    finally:
        stack.compose("start", "supply")
    stack.wait_ready()
    assert stack.curl("/supply/api/whoami/", clerk).status == 200


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_stop_is_graceful_and_down_up_keeps_every_row_and_the_pki(
    stack: ComposeStack, clerk: UserCert, record_property: Callable[[str, object], None]
) -> None:
    ledger = stack.ledger(clerk)
    stock = (stack.stock(clerk, NSN, "RECV"), stack.stock(clerk, NSN, "A-01"))
    pki = _tree_digest(stack.pki.home)
    times = stack.stop_times()
    for service, (seconds, code) in times.items():
        record_property("figure", f"compose stop {service}: {seconds:.2f} s (exit code {code})")
    # Each exits on its own stop signal: 137 would be the engine's SIGKILL after the grace period.
    assert {service: code for service, (_, code) in times.items()} == {
        "proxy": 0,
        "supply": 0,
        "db": 0,
    }
    stack.compose("down", "--timeout", "10")  # keeps the named volumes
    stack.up()
    assert stack.ledger(clerk) == ledger
    assert (stack.stock(clerk, NSN, "RECV"), stack.stock(clerk, NSN, "A-01")) == stock
    assert _tree_digest(stack.pki.home) == pki
