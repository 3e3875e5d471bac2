"""Revocation reaches every request: the service reads the new CRL at once, nginx after a reload,
and a client that kept a TLS session from before cannot resume its way back in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.clients import s_client
from tests.harness.stack import EdgeStack

WHOAMI = "/supply/api/whoami/"
REJECTED_PAGE_TITLE = "<title>Your certificate was rejected</title>"


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_revoked_certificate_is_refused_even_on_a_resumed_session(
    edge_stack: EdgeStack, tmp_path: Path, tls: str
) -> None:
    user = edge_stack.new_user(f"Revoked {tls}", role="viewer")
    ca, port, session = edge_stack.pki.ca_cert, edge_stack.port, tmp_path / "session.pem"

    first = s_client(port, WHOAMI, ca=ca, user=user, tls=tls, sess_out=session)
    assert first.status == 200
    assert first.new_session
    # TLS 1.2: no session ID and no ticket are offered, so s_client has nothing to save.
    # TLS 1.3: tickets arrive but nginx keeps no state to resume them.
    resumable = session.exists()
    assert resumable == (tls == "1.3")
    if resumable:
        again = s_client(port, WHOAMI, ca=ca, user=user, tls=tls, sess_in=session)
        assert again.status == 200
        assert not again.reused

    edge_stack.pki.revoke(user)  # `pki revoke` + `pki crl`

    # nginx has not reloaded: the handshake still passes, the service's own CRL check does not.
    stale = edge_stack.curl(WHOAMI, user=user)
    assert stale.status == 403
    assert stale.json()["detail"] == "certificate: Revoked."
    assert stale.json()["serial"] == user.serial

    assert edge_stack.nginx is not None
    edge_stack.nginx.reload()  # what `nginx -s reload` does
    resumed = s_client(
        port, WHOAMI, ca=ca, user=user, tls=tls, sess_in=session if resumable else None
    )
    assert not resumed.reused
    assert resumed.status == 403
    assert '"code": "certificate_rejected"' in resumed.output
    assert edge_stack.curl(WHOAMI, user=user).json()["code"] == "certificate_rejected"
    assert REJECTED_PAGE_TITLE in edge_stack.curl("/supply/admin/", user=user).body
    # Everyone else is unaffected.
    other = edge_stack.new_user(f"Still Valid {tls}", role="viewer")
    assert edge_stack.curl(WHOAMI, user=other).status == 200
