"""A site as an operator sets one up: a real server name (not localhost) and gunicorn on a unix
socket, with no hand-written host configuration; the service stopping and coming back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.fixtures import TOOLS, require_database, require_tools
from tests.harness.processes import Supply
from tests.harness.stack import EdgeStack

SERVER = "depot.example"
WHOAMI = "/supply/api/whoami/"
UNAVAILABLE_JSON = {
    "detail": "The service is not available yet: it is starting or stopped; try again in a minute.",
    "code": "service_unavailable",
}


@pytest.fixture
def named_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EdgeStack]:
    require_tools(*TOOLS)
    require_database()
    # The server name must be allowed because the PKI home has its certificate, not by hand.
    monkeypatch.delenv("SUPPLY_ALLOWED_HOSTS", raising=False)
    with EdgeStack.running(tmp_path, server_name=SERVER, unix_socket=True) as stack:
        yield stack


def test_server_name_works_with_no_allowed_hosts_setting(named_site: EdgeStack) -> None:
    stack = named_site
    assert "SUPPLY_ALLOWED_HOSTS" not in stack.env
    assert stack.supply is not None and stack.supply.bind.startswith("unix:")
    clerk = stack.new_user("Named Site Clerk", role="clerk")
    admin = stack.new_user("Named Site Admin", superuser=True)

    whoami = stack.curl(WHOAMI, user=clerk)
    assert whoami.status == 200, whoami.body
    assert whoami.json()["subject_dn"] == clerk.info.subject_dn
    assert whoami.json()["roles"] == ["clerk"]
    assert stack.curl("/supply/admin/", user=admin).status == 200

    # The browser's origin on this name is this site: past the origin check, into validation.
    same = stack.curl(
        "/supply/api/receipts/",
        user=clerk,
        method="POST",
        headers={"Origin": f"https://{SERVER}:{stack.port}", "Content-Type": "application/json"},
        data="{}",
    )
    assert same.status == 400, same.body
    evil = stack.curl(
        "/supply/api/receipts/",
        user=clerk,
        method="POST",
        headers={"Origin": "https://evil.example", "Content-Type": "application/json"},
        data="{}",
    )
    assert evil.status == 403
    assert evil.json() == {"detail": "origin: Origin https://evil.example is not this site."}

    # Any other Host (nginx's only server block takes it) is still refused by Django.
    other = stack.curl(WHOAMI, user=clerk, headers={"Host": f"evil.example:{stack.port}"})
    assert other.status == 400


def test_stopped_service_gives_a_clear_503_until_it_is_back(named_site: EdgeStack) -> None:
    stack = named_site
    assert stack.supply is not None and stack.supply.socket_path is not None
    viewer = stack.new_user("Named Site Viewer", role="viewer")
    assert stack.curl(WHOAMI, user=viewer).status == 200

    stack.supply.stop()
    api = stack.curl(WHOAMI, user=viewer)
    assert (api.status, api.json()) == (503, UNAVAILABLE_JSON)
    page = stack.curl("/supply/admin/", user=viewer)
    assert page.status == 503
    assert "<title>The service is not available yet</title>" in page.body
    assert stack.curl("/", user=None).status == 200  # the web shell stays up

    # Same socket, no nginx reload: requests go through again.
    stack.supply = Supply(stack.root, stack.env, 0, 1, socket_path=stack.supply.socket_path)
    back = stack.curl(WHOAMI, user=viewer)
    assert back.status == 200
    assert back.json()["subject_dn"] == viewer.info.subject_dn
