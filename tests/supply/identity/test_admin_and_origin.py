"""The mapping in Django admin, and the origin rule for state-changing API requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from supply.identity.models import CertificateIdentity
from supply.identity.origin import cross_origin_reason
from supply.identity.services import Binding, provision_admin
from tests.harness.pki_site import PkiSite

Api = Callable[..., Any]


def test_admin_adds_a_mapping_from_a_pasted_certificate(api: Api, pki_site: PkiSite) -> None:
    admin_cert = pki_site.issue_user("Admin Paster")
    admin = provision_admin(Binding.from_certificate(pki_site.load_cert(admin_cert)))
    newcomer = pki_site.issue_user("Pasted, Pat")
    reply = api(
        "post",
        "/supply/admin/identity/certificateidentity/add/",
        admin_cert,
        data={
            "user": admin.pk,
            "subject_dn": "",
            "issuer_dn": "",
            "fingerprint": "",
            "note": "second device",
            "certificate": newcomer.cert_pem.read_text(),
            "pin": "on",
        },
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    row = CertificateIdentity.objects.get(note="second device")
    assert (row.subject_dn, row.issuer_dn, row.fingerprint, row.user) == (
        r"CN=Pasted\, Pat,O=Harness Fleet",
        "CN=Harness Root CA,O=Harness Fleet",
        newcomer.info.sha256,
        admin,
    )


def test_admin_canonicalises_typed_dns_and_rejects_garbage(api: Api, pki_site: PkiSite) -> None:
    admin_cert = pki_site.issue_user("Admin Typist")
    admin = provision_admin(Binding.from_certificate(pki_site.load_cert(admin_cert)))
    url = "/supply/admin/identity/certificateidentity/add/"
    form = {"user": admin.pk, "fingerprint": "", "note": "typed", "certificate": ""}
    bad = api("post", url, admin_cert, data=form | {"subject_dn": "nonsense", "issuer_dn": "CN=x"})
    assert bad.status_code == 200
    assert "subject_dn: &#x27;nonsense&#x27; is not an RFC 4514 distinguished name." in (
        bad.content.decode()
    )
    good = api(
        "post", url, admin_cert, data=form | {"subject_dn": r"CN=Typed\2C T", "issuer_dn": "CN=x"}
    )
    assert good.status_code == 302
    assert CertificateIdentity.objects.get(note="typed").subject_dn == r"CN=Typed\, T"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, None),  # curl, scripts
        ({"HTTP_ORIGIN": "https://edge.example:8443"}, None),
        ({"HTTP_ORIGIN": "https://trusted.example"}, None),
        ({"HTTP_ORIGIN": "https://evil.example"}, "Origin https://evil.example is not this site."),
        ({"HTTP_ORIGIN": "null"}, "Origin null is not this site."),
        (
            {"HTTP_ORIGIN": "http://edge.example:8443"},
            "Origin http://edge.example:8443 is not this site.",
        ),
        ({"HTTP_REFERER": "https://edge.example:8443/app/"}, None),
        (
            {"HTTP_REFERER": "https://evil.example/x"},
            "Referer origin https://evil.example is not this site.",
        ),
        ({"HTTP_SEC_FETCH_SITE": "same-origin"}, None),
        ({"HTTP_SEC_FETCH_SITE": "cross-site"}, "A cross-site request cannot change data."),
        ({"HTTP_SEC_FETCH_SITE": "same-site"}, "A same-site request cannot change data."),
    ],
)
def test_cross_origin_reason(settings: Any, headers: dict[str, str], reason: str | None) -> None:
    settings.ALLOWED_HOSTS = ["edge.example"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://trusted.example"]
    meta: dict[str, Any] = {"HTTP_HOST": "edge.example:8443", **headers}
    request = RequestFactory().post("/supply/api/receipts/", secure=True, **meta)
    assert cross_origin_reason(request) == reason
    safe = RequestFactory().get("/x", secure=True, **meta)
    assert cross_origin_reason(safe) is None
