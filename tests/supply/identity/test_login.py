"""Which requests log in, as whom, and what the others are told (through the Django stack)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.conf import settings
from django.contrib.auth.models import Group, User

from pki.certinfo import describe
from supply.identity import lookup
from supply.identity.models import CertificateIdentity
from supply.identity.services import Binding, grant
from supply.identity.trust import Verified
from tests.harness.pki_site import PkiSite, UserCert
from tests.supply.identity.conftest import Edge

WHOAMI = "/supply/api/whoami/"
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}

Api = Callable[..., Any]


def _granted(pki_site: PkiSite, name: str, role: str = "viewer", **kw: Any) -> UserCert:
    cert = pki_site.issue_user(name)
    grant(Binding.from_certificate(pki_site.load_cert(cert), **kw), role)
    return cert


def _days(n: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=n)


def test_whoami_shows_the_certificate_and_the_user(api: Api, pki_site: PkiSite) -> None:
    cert = _granted(pki_site, "Whoami Person", "clerk")
    reply = api("get", WHOAMI, cert)
    assert reply.status_code == 200
    user = User.objects.get(certificate_identities__subject_dn=cert.info.subject_dn)
    body = reply.json()
    crl = x509.load_pem_x509_crl((pki_site.home / "ca" / "crl.pem").read_bytes())
    assert crl.next_update_utc is not None
    assert body.pop("crl_next_update") == crl.next_update_utc.isoformat()
    assert body == {
        "subject_dn": "CN=Whoami Person,O=Harness Fleet",
        "issuer_dn": "CN=Harness Root CA,O=Harness Fleet",
        "serial": cert.serial,
        "sha256": cert.info.sha256,
        "not_after": cert.info.not_after.isoformat(),
        "days_left": cert.info.days_left(),
        "username": user.username,
        "roles": ["clerk"],
        "is_superuser": False,
        "anchor": "local",
        "identity_rule": "subject",
        "identity_value": None,
        "crl_state": "fresh",
    }


def test_cached_login_costs_no_query(
    api: Api, pki_site: PkiSite, django_assert_num_queries: Any
) -> None:
    cert = _granted(pki_site, "Cached Person")
    assert api("get", WHOAMI, cert).status_code == 200  # fills the cache
    with django_assert_num_queries(0):
        assert api("get", WHOAMI, cert).status_code == 200


def test_identity_headers_count_only_with_the_proxy_secret(
    api: Api, edge: Edge, pki_site: PkiSite, client: Any
) -> None:
    cert = _granted(pki_site, "Secret Holder")
    for secret in ("", "wrong", edge.secret[:-1], edge.secret + " "):
        headers = edge.headers(cert, secret=secret)
        reply = client.get(WHOAMI, **headers)
        assert reply.status_code == 403, secret
        assert reply.json() == NOT_PROVIDED
    no_secret = {k: v for k, v in edge.headers(cert).items() if k != "HTTP_X_PROXY_SECRET"}
    assert client.get(WHOAMI, **no_secret).status_code == 403
    assert client.get(WHOAMI, **edge.headers(cert)).status_code == 200


def test_a_rotated_proxy_secret_is_picked_up_without_restart(
    edge: Edge, pki_site: PkiSite, client: Any, db: None
) -> None:
    cert = _granted(pki_site, "Rotation Person")
    assert client.get(WHOAMI, **edge.headers(cert)).status_code == 200
    new = edge.secret[::-1] + "rotated"
    tmp = edge.secret_file.with_suffix(".new")
    tmp.write_text(new + "\n")
    os.replace(tmp, edge.secret_file)  # as pki's atomic writes do: a new inode
    assert client.get(WHOAMI, **edge.headers(cert)).status_code == 403
    assert client.get(WHOAMI, **edge.headers(cert, secret=new)).status_code == 200


def test_nginx_verify_other_than_success_is_no_login(
    edge: Edge, pki_site: PkiSite, client: Any, db: None
) -> None:
    cert = _granted(pki_site, "Failed Verify")
    headers = edge.headers(cert) | {"HTTP_X_CLIENT_VERIFY": "FAILED:certificate revoked"}
    assert client.get(WHOAMI, **headers).json() == NOT_PROVIDED


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("ca-true", "certificate: A CA certificate cannot log in (basicConstraints CA:TRUE)."),
        ("no-eku", "certificate: Not made for client authentication (no clientAuth EKU)."),
        ("server-only", "certificate: Not made for client authentication (no clientAuth EKU)."),
        ("other-ca", "certificate: Not issued by a trusted CA."),
        ("self-signed", "certificate: Not issued by a trusted CA."),
        ("expired", "certificate: Expired on {not_after} UTC."),
        ("future", "certificate: Not valid before {not_before} UTC."),
    ],
)
def test_the_service_checks_the_certificate_itself(
    api: Api, pki_site: PkiSite, case: str, message: str
) -> None:
    forge = {
        "ca-true": lambda: pki_site.forge("Ca True", is_ca=True),
        "no-eku": lambda: pki_site.forge("No Eku", ekus=()),
        "server-only": lambda: pki_site.forge(
            "Server Only", ekus=(ExtendedKeyUsageOID.SERVER_AUTH,)
        ),
        "other-ca": lambda: pki_site.forge("Other Ca", signer="other-ca"),
        "self-signed": lambda: pki_site.forge("Self Signed", signer="self"),
        "expired": lambda: pki_site.forge("Old", not_before=_days(-9), not_after=_days(-1)),
        "future": lambda: pki_site.forge("Future", not_before=_days(1), not_after=_days(9)),
    }[case]
    cert = forge()
    # Mapped, so only the certificate check can refuse it.
    grant(Binding.from_certificate(pki_site.load_cert(cert)), "viewer")
    reply = api("get", WHOAMI, cert)
    assert reply.status_code == 403
    expected = message.format(
        not_after=f"{cert.info.not_after:%Y-%m-%d %H:%M}",
        not_before=f"{cert.info.not_before:%Y-%m-%d %H:%M}",
    )
    assert reply.json()["detail"] == expected
    assert reply.json()["code"] == "certificate_rejected"


def test_a_new_crl_is_read_at_the_next_request(api: Api, pki_site: PkiSite) -> None:
    cert = _granted(pki_site, "Soon Revoked")
    assert api("get", WHOAMI, cert).status_code == 200
    pki_site.revoke(cert)  # pki revoke + pki crl, no restart of anything
    reply = api("get", WHOAMI, cert)
    assert reply.status_code == 403
    assert reply.json()["detail"] == "certificate: Revoked."


def test_no_readable_crl_fails_closed(
    api: Api, pki_site: PkiSite, settings: Any, tmp_path: Any
) -> None:
    cert = _granted(pki_site, "Crl Missing")
    settings.SUPPLY_CRL = tmp_path / "absent.pem"
    reply = api("get", WHOAMI, cert)
    assert reply.status_code == 403
    assert reply.json()["detail"].startswith("certificate: The CRL cannot be read (")
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a crl\n")
    settings.SUPPLY_CRL = bogus
    assert api("get", WHOAMI, cert).json()["detail"] == (
        "certificate: The CRL cannot be read (no CRL in the CRL file)."
    )


def test_unknown_and_disabled_users_get_403_with_their_dn(api: Api, pki_site: PkiSite) -> None:
    cert = pki_site.issue_user("Stranger, Sam")
    body = api("get", WHOAMI, cert).json()
    assert body["code"] == "certificate_unknown"
    assert body["subject_dn"] == r"CN=Stranger\, Sam,O=Harness Fleet"
    grant(Binding.from_certificate(pki_site.load_cert(cert)), "viewer")
    assert api("get", WHOAMI, cert).status_code == 200
    user = User.objects.get(certificate_identities__subject_dn=body["subject_dn"])
    user.is_active = False
    user.save()  # through the ORM: the cached login is dropped at once
    reply = api("get", WHOAMI, cert)
    assert reply.status_code == 403
    assert (
        reply.json()["detail"]
        == f"user: The account {user.username} is disabled; ask an administrator to enable it."
    )
    assert reply.json()["code"] == "certificate_inactive"


def test_role_changes_and_unmapping_take_effect_at_once(api: Api, pki_site: PkiSite) -> None:
    cert = _granted(pki_site, "Changing Roles", "viewer")
    assert api("get", WHOAMI, cert).json()["roles"] == ["viewer"]
    user = User.objects.get(certificate_identities__subject_dn=cert.info.subject_dn)
    user.groups.add(Group.objects.get(name="manager"))
    assert api("get", WHOAMI, cert).json()["roles"] == ["manager", "viewer"]
    CertificateIdentity.objects.get(user=user).delete()
    assert api("get", WHOAMI, cert).json()["code"] == "certificate_unknown"


def test_pinned_mapping_admits_only_its_certificate(api: Api, pki_site: PkiSite) -> None:
    first = pki_site.issue_user("Pinned Person")
    second = pki_site.issue_user("Pinned Person")  # same DN, new key (a renewal)
    grant(Binding.from_certificate(pki_site.load_cert(first), pin=True), "viewer")
    assert api("get", WHOAMI, first).status_code == 200
    assert api("get", WHOAMI, second).json()["code"] == "certificate_unknown"
    # An unpinned mapping for the DN admits the renewal; the pinned one still wins for `first`.
    grant(Binding.from_certificate(pki_site.load_cert(second)), "clerk", username="pinned-two")
    assert api("get", WHOAMI, second).json()["username"] == "pinned-two"
    assert api("get", WHOAMI, first).json()["roles"] == ["viewer"]


def test_one_user_may_hold_several_certificates(api: Api, pki_site: PkiSite) -> None:
    laptop = pki_site.issue_user("Multi Device", org_unit="Laptop")
    phone = pki_site.issue_user("Multi Device", org_unit="Phone")
    for cert in (laptop, phone):
        grant(Binding.from_certificate(pki_site.load_cert(cert)), "viewer", username="multi")
    names = {api("get", WHOAMI, c).json()["username"] for c in (laptop, phone)}
    assert names == {"multi"}


def test_admin_pages_need_a_login_and_show_the_dn(api: Api, pki_site: PkiSite) -> None:
    page = api("get", "/supply/admin/", None)
    assert page.status_code == 403
    assert (
        '<p id="message">certificate: A client certificate is required; present yours through '
        "the site&#x27;s address.</p>"
    ) in page.content.decode()
    stranger = pki_site.issue_user('Quote "Q" Person')
    html = api("get", "/supply/admin/", stranger).content.decode()
    assert '<dd id="subject-dn">CN=Quote \\&quot;Q\\&quot; Person,O=Harness Fleet</dd>' in html
    assert '<pre id="grant-command">supply grant --subject-dn' in html
    assert api("get", "/supply/healthz", None).status_code == 200


def test_cached_lookup_does_not_outlive_its_timeout(
    api: Api, pki_site: PkiSite, settings: Any
) -> None:
    settings.SUPPLY_IDENTITY_CACHE_SECONDS = 1
    cert = _granted(pki_site, "Short Cache")
    assert api("get", WHOAMI, cert).status_code == 200
    # A change the ORM signals cannot see (QuerySet.update) is bounded by the timeout.
    CertificateIdentity.objects.filter(subject_dn=cert.info.subject_dn).update(
        subject_dn="CN=elsewhere"
    )
    deadline = time.monotonic() + 10
    while api("get", WHOAMI, cert).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api("get", WHOAMI, cert).json()["code"] == "certificate_unknown"


def test_an_unusable_cache_directory_falls_back_to_the_database(
    api: Api, pki_site: PkiSite, settings: Any, tmp_path: Any
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.SUPPLY_IDENTITY_CACHE_DIR = blocker
    cert = _granted(pki_site, "No Cache")  # invalidation fails too, and is only logged
    assert api("get", WHOAMI, cert).json()["subject_dn"] == "CN=No Cache,O=Harness Fleet"


def test_a_missing_proxy_secret_refuses_logins_and_says_why_in_the_log(
    api: Api, pki_site: PkiSite, edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    cert = _granted(pki_site, "No Secret File")
    edge.secret_file.unlink()
    with caplog.at_level("WARNING", logger="supply.identity.login"):
        reply = api("get", WHOAMI, cert)
        assert api("get", WHOAMI, cert).status_code == 403
    assert reply.status_code == 403
    assert reply.json() == {"detail": "Authentication credentials were not provided."}
    mine = [r.getMessage() for r in caplog.records if r.name == "supply.identity.login"]
    assert mine == [  # once, not per request
        f"proxy secret: Cannot read {edge.secret_file} (No such file or directory); "
        "ignoring logins."
    ]


def test_a_new_generation_with_an_old_looking_stamp_is_still_seen(api: Api, edge: Edge) -> None:
    """Several invalidations within one timestamp tick can leave a file whose (mtime, inode,
    size) equal an earlier one; right after a change the generation is read, not trusted."""
    api("get", WHOAMI, None)  # settings applied
    first = lookup._generation()
    path = lookup._generation_file(settings.SUPPLY_IDENTITY_CACHE_DIR).path
    before = path.stat()
    path.write_text("f" * 32 + "\n")  # same inode and size, and the same mtime put back
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_ino == before.st_ino
    assert first != "f" * 32
    assert lookup._generation() == "f" * 32


def test_each_request_gets_its_own_copy_of_a_remembered_user(api: Api, pki_site: PkiSite) -> None:
    cert = _granted(pki_site, "Own Copy")
    assert api("get", WHOAMI, cert).status_code == 200  # read once: file cache and memory
    info = describe(pki_site.load_cert(cert))
    verified = Verified(info, "local", "subject", "", "fresh", None)
    first, second = lookup.user_for(verified), lookup.user_for(verified)
    assert first is not None and second is not None
    assert first is not second and first.pk == second.pk
    first.first_name = "Changed by one request"
    assert second.first_name == ""
    # A change through the ORM moves the generation: the remembered user is not used again.
    User.objects.get(pk=first.pk).groups.clear()
    assert api("get", WHOAMI, cert).json()["roles"] == []
