"""Certificate login through the real edge: who gets in, as whom, and who does not."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.harness.clients import s_client
from tests.harness.stack import EdgeStack

WHOAMI = "/supply/api/whoami/"
REJECTED_PAGE_TITLE = "<title>Your certificate was rejected</title>"
NO_CERT_JSON = {
    "detail": "A client certificate is required: import your .p12 file and present it to this "
    "site.",
    "code": "certificate_required",
}
REJECTED_JSON = {
    "detail": "certificate: This site does not accept the certificate you presented (expired, "
    "not yet valid, revoked, from another authority, or not for logging in); ask your site "
    "administrator for a new one, import it and restart your browser.",
    "code": "certificate_rejected",
}


def test_mapped_certificate_logs_in_with_curl_modern_p12(edge_stack: EdgeStack) -> None:
    user = edge_stack.new_user("Modern Curl", role="clerk", cli=True)
    reply = edge_stack.curl(WHOAMI, user=user)
    assert reply.status == 200
    body = reply.json()
    assert body["subject_dn"] == "CN=Modern Curl,O=Harness Fleet"
    assert body["issuer_dn"] == "CN=Harness Root CA,O=Harness Fleet"
    assert body["serial"] == user.serial
    assert body["roles"] == ["clerk"]
    assert body["username"].startswith("Modern_Curl-")
    assert body["days_left"] == user.info.days_left()


def test_mapped_certificate_logs_in_with_curl_legacy_p12(edge_stack: EdgeStack) -> None:
    user = edge_stack.new_user("Legacy Curl", role="viewer", legacy=True, cli=True)
    reply = edge_stack.curl(WHOAMI, user=user)
    assert reply.status == 200
    assert reply.json()["subject_dn"] == "CN=Legacy Curl,O=Harness Fleet"


def test_mapped_certificate_logs_in_with_httpx(edge_stack: EdgeStack) -> None:
    user = edge_stack.new_user("Python Client", role="issuer")
    with edge_stack.client(user) as client:
        first = client.get(WHOAMI)
        second = client.get(WHOAMI)  # same keep-alive connection
    assert first.status_code == second.status_code == 200
    assert first.json()["roles"] == ["issuer"]
    assert first.json()["sha256"] == user.info.sha256


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_mapped_certificate_logs_in_with_openssl_s_client(edge_stack: EdgeStack, tls: str) -> None:
    user = edge_stack.new_user(f"OpenSSL {tls}", role="viewer")
    result = s_client(edge_stack.port, WHOAMI, ca=edge_stack.pki.ca_cert, user=user, tls=tls)
    assert result.status == 200, result.output[-2000:]
    assert f'"subject_dn":"CN=OpenSSL {tls},O=Harness Fleet"' in result.output


def test_no_certificate_gets_403_on_the_api_and_the_web_shell(edge_stack: EdgeStack) -> None:
    api = edge_stack.curl(WHOAMI)
    assert api.status == 403
    assert api.json() == NO_CERT_JSON
    admin = edge_stack.curl("/supply/admin/")
    assert admin.status == 403
    assert "<title>A client certificate is required</title>" in admin.body
    shell = edge_stack.curl("/")
    assert shell.status == 200  # no redirect: curl does not follow, so a 30x would show here
    assert "<title>Web shell</title>" in shell.body
    assert edge_stack.curl("/healthz").body == "ok\n"
    assert edge_stack.curl("/supply/healthz").status == 200


def _days(n: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=n)


def test_certificates_nginx_must_reject(edge_stack: EdgeStack) -> None:
    pki = edge_stack.pki
    victim = edge_stack.new_user("Victim User", role="manager")
    victim_subject = pki.load_cert(victim).subject
    bad = {
        "another CA (same CA name, other key)": pki.forge("Other Ca", signer="other-ca"),
        "self-signed copying a real user's DN": pki.forge(
            "Victim User", subject=victim_subject, signer="self"
        ),
        "expired": pki.forge("Expired", not_before=_days(-30), not_after=_days(-1)),
        "not yet valid": pki.forge("Future", not_before=_days(1), not_after=_days(30)),
        "serverAuth only": pki.forge("Server Only", ekus=(ExtendedKeyUsageOID.SERVER_AUTH,)),
    }
    for case, cert in bad.items():
        for path in ("/supply/admin/", "/"):
            reply = edge_stack.curl(path, user=cert)
            assert reply.status == 403, (case, path, reply.status)
            assert REJECTED_PAGE_TITLE in reply.body, (case, path)
        # Under the API the same refusal is JSON, as every API error is.
        for path in (WHOAMI, "/supply/api/items/?page=2", "/supply/api/nowhere"):
            reply = edge_stack.curl(path, user=cert)
            assert (reply.status, reply.headers.get("content-type")) == (
                403,
                "application/json; charset=utf-8",
            ), (case, path)
            assert reply.json() == REJECTED_JSON, (case, path)
    # The real holder of the DN still gets in: the copy was refused for its signature alone.
    assert edge_stack.curl(WHOAMI, user=victim).status == 200


def test_service_rejects_what_nginx_lets_through(edge_stack: EdgeStack) -> None:
    """nginx accepts a CA-signed certificate without EKU; the service requires clientAuth."""
    cert = edge_stack.pki.forge("No Eku", ekus=())
    refused = edge_stack.supply_command(
        "grant", "--cert", str(cert.cert_pem), "--role", "viewer", check=False
    )
    assert refused.returncode == 1
    assert "cannot log in here: Not made for client authentication" in refused.stderr
    # Bound anyway, so the service's own check is what refuses the login.
    edge_stack.supply_command("grant", "--cert", str(cert.cert_pem), "--role", "viewer", "--force")
    reply = edge_stack.curl(WHOAMI, user=cert)
    assert reply.status == 403
    assert reply.json()["detail"] == (
        "certificate: Not made for client authentication (no clientAuth EKU)."
    )
    assert reply.json()["code"] == "certificate_rejected"


def test_unknown_certificate_sees_its_dn_until_granted(edge_stack: EdgeStack) -> None:
    user = edge_stack.pki.issue_user("Newcomer, Nina")
    api = edge_stack.curl(WHOAMI, user=user)
    assert api.status == 403
    body = api.json()
    assert (
        body["detail"] == "certificate: Not registered here; ask an administrator to grant access."
    )
    assert body["subject_dn"] == r"CN=Newcomer\, Nina,O=Harness Fleet"
    assert body["issuer_dn"] == "CN=Harness Root CA,O=Harness Fleet"
    assert body["grant_command"] == (
        r"supply grant --subject-dn 'CN=Newcomer\, Nina,O=Harness Fleet' "
        "--issuer-dn 'CN=Harness Root CA,O=Harness Fleet' --role viewer"
    )
    page = edge_stack.curl("/supply/admin/", user=user)
    assert page.status == 403
    assert r'<dd id="subject-dn">CN=Newcomer\, Nina,O=Harness Fleet</dd>' in page.body

    # The command the page shows, run as shown (DNs, not the certificate file).
    edge_stack.supply_command(
        "grant",
        "--subject-dn",
        body["subject_dn"],
        "--issuer-dn",
        body["issuer_dn"],
        "--role",
        "viewer",
    )
    granted = edge_stack.curl(WHOAMI, user=user)
    assert granted.status == 200
    assert granted.json()["roles"] == ["viewer"]


def test_revoke_access_and_disabled_user_are_refused(edge_stack: EdgeStack) -> None:
    user = edge_stack.new_user("Short Stay", role="viewer")
    assert edge_stack.curl(WHOAMI, user=user).status == 200
    username = edge_stack.curl(WHOAMI, user=user).json()["username"]

    edge_stack.supply_command(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"u = User.objects.get(username={username!r}); u.is_active = False; u.save()",
    )
    disabled = edge_stack.curl(WHOAMI, user=user)
    assert disabled.status == 403
    assert (
        disabled.json()["detail"]
        == f"user: The account {username} is disabled; ask an administrator to enable it."
    )

    done = edge_stack.supply_command("revoke-access", "--cert", str(user.cert_pem))
    assert done.stdout.strip() == "Removed 1 mapping(s) of CN=Short Stay,O=Harness Fleet"
    assert edge_stack.curl(WHOAMI, user=user).json()["code"] == "certificate_unknown"


def test_superuser_certificate_opens_the_admin_without_password(edge_stack: EdgeStack) -> None:
    admin = edge_stack.new_user("Site Admin", superuser=True)
    page = edge_stack.curl("/supply/admin/", user=admin)
    assert page.status == 200
    assert "<title>Site administration | Django site admin</title>" in page.body
    mappings = edge_stack.curl("/supply/admin/identity/certificateidentity/", user=admin)
    assert mappings.status == 200
    assert "CN=Site Admin,O=Harness Fleet" in mappings.body
    # A clerk's certificate is a login, but not an admin one.
    clerk = edge_stack.new_user("Plain Clerk", role="clerk")
    assert "Site administration" not in edge_stack.curl("/supply/admin/", user=clerk).body


# Each role against one write of each kind. An empty body reaches validation (400) only when the
# role may write there; otherwise the permission check answers 403 first.
WRITES = {
    "/supply/api/receipts/": {"clerk"},
    "/supply/api/stows/": {"clerk"},
    "/supply/api/issues/": {"issuer"},
    "/supply/api/adjustments/": {"manager"},
    "/supply/api/items/": {"manager"},
    "/supply/api/locations/": {"manager"},
}


def test_each_role_is_allowed_exactly_its_operations(edge_stack: EdgeStack) -> None:
    users = {
        role: edge_stack.new_user(f"Role {role}", role=role)
        for role in ("viewer", "clerk", "issuer", "manager")
    }
    users["superuser"] = edge_stack.new_user("Role superuser", superuser=True)
    nobody = edge_stack.pki.issue_user("Role none")
    edge_stack.supply_command(  # mapped, but to a user with no role
        "grant",
        "--cert",
        str(nobody.cert_pem),
        "--role",
        "viewer",
    )
    edge_stack.supply_command(
        "shell",
        "-c",
        "from supply.identity.models import CertificateIdentity as C; "
        "[c.user.groups.clear() for c in C.objects.filter(subject_dn__startswith='CN=Role none')]",
    )
    for role, user in users.items():
        with edge_stack.client(user) as client:
            assert client.get("/supply/api/items/").status_code == 200, role
            for path, allowed in WRITES.items():
                status = client.post(path, json={}).status_code
                expected = 400 if role == "superuser" or role in allowed else 403
                assert status == expected, (role, path, status)
    with edge_stack.client(nobody) as client:
        assert client.get("/supply/api/items/").status_code == 403
        assert client.post("/supply/api/receipts/", json={}).status_code == 403


def test_cross_site_post_is_refused_same_origin_and_curl_are_not(edge_stack: EdgeStack) -> None:
    clerk = edge_stack.new_user("Csrf Clerk", role="clerk")
    with edge_stack.client(clerk) as client:
        evil = client.post(
            "/supply/api/receipts/", json={}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        assert evil.json() == {"detail": "origin: Origin https://evil.example is not this site."}
        referer = client.post(
            "/supply/api/receipts/", json={}, headers={"Referer": "https://evil.example/form"}
        )
        assert referer.status_code == 403
        fetch = client.post(
            "/supply/api/receipts/", json={}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert fetch.json() == {"detail": "origin: A cross-site request cannot change data."}
        same = client.post(
            "/supply/api/receipts/", json={}, headers={"Origin": edge_stack.base_url}
        )
        assert same.status_code == 400  # past the origin and role checks, into validation
        assert client.post("/supply/api/receipts/", json={}).status_code == 400  # no Origin
        # A cross-site GET is harmless and allowed (links from elsewhere keep working).
        assert client.get(WHOAMI, headers={"Origin": "https://evil.example"}).status_code == 200


def test_cross_site_post_to_the_admin_is_refused(edge_stack: EdgeStack) -> None:
    admin = edge_stack.new_user("Csrf Admin", superuser=True)
    with edge_stack.client(admin) as client:
        reply = client.post(
            "/supply/admin/logout/",
            headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"},
        )
    assert reply.status_code == 403
    assert "CSRF verification failed" in reply.text


def _multi_valued(cn: str, uid: str) -> x509.Name:
    return x509.Name(
        [
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Harness Fleet")]
            ),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                    x509.NameAttribute(NameOID.USER_ID, uid),
                ]
            ),
        ]
    )


def test_dn_edge_cases_map_exactly_and_never_collide(edge_stack: EdgeStack) -> None:
    pki = edge_stack.pki
    names = [
        "Doe, John",
        "Doe",
        "John Doe",
        "john doe",
        "John  Doe",
        "ad-min",
        "admin",
        'O\'Brien "Jr" + Sons',
        "José Núñez",
        "Jose Nunez",
        "Jos\u0065\u0301 Núñez",
        "Аdmin",  # Cyrillic А: looks like "Admin"
    ]
    certs = {name: pki.issue_user(name) for name in names}
    certs["multi cn+uid"] = pki.forge("x", subject=_multi_valued("Doe", "jdoe"))
    certs["multi cn+uid other"] = pki.forge("x", subject=_multi_valued("Doe", "jdoe2"))
    # Grant every other one; the rest must stay unknown even though a look-alike is granted.
    granted = list(certs)[::2]
    for name in granted:
        edge_stack.supply_command("grant", "--cert", str(certs[name].cert_pem), "--role", "viewer")
    seen: dict[str, str] = {}
    for name, cert in certs.items():
        reply = edge_stack.curl(WHOAMI, user=cert)
        if name in granted:
            assert reply.status == 200, name
            assert reply.json()["subject_dn"] == cert.info.subject_dn
            seen[reply.json()["username"]] = name
        else:
            assert reply.status == 403, name
            assert reply.json()["code"] == "certificate_unknown", name
            assert reply.json()["subject_dn"] == cert.info.subject_dn
    assert len(seen) == len(granted)  # one distinct user per granted DN
    listed = json.loads(edge_stack.supply_command("identities", "--json").stdout)
    listed_dns = {row["subject_dn"] for row in listed}
    assert {certs[name].info.subject_dn for name in granted} <= listed_dns
    assert not {certs[name].info.subject_dn for name in certs if name not in granted} & listed_dns


def test_forged_headers_at_gunicorn_without_the_proxy_secret(edge_stack: EdgeStack) -> None:
    user = edge_stack.new_user("Forged Target", superuser=True)
    forged = {
        "X-Client-Verify": "SUCCESS",
        "X-Client-Cert": urllib.parse.quote(user.cert_pem.read_text()),
        "X-Client-S-DN": "CN=Forged Target,O=Harness Fleet",
        "Host": "localhost",
    }
    for secret in (None, "wrong-secret-of-some-length", edge_stack.proxy_secret + "x"):
        headers = dict(forged) | ({"X-Proxy-Secret": secret} if secret else {})
        api = edge_stack.direct(WHOAMI, headers)
        assert api.status == 403, secret
        assert api.json() == {"detail": "Authentication credentials were not provided."}
        assert edge_stack.direct("/supply/admin/", headers).status == 403
    # Control: the same headers with the real secret are what nginx sends, and they work.
    assert (
        edge_stack.direct(WHOAMI, forged | {"X-Proxy-Secret": edge_stack.proxy_secret}).status
        == 200
    )
