"""provision-admin, grant, revoke-access, identities: thin commands over the services."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError

from supply.identity.models import CertificateIdentity
from tests.harness.pki_site import PkiSite
from tests.supply.identity.conftest import Edge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _trusting_the_site(edge: Edge) -> None:
    """The commands check a --cert against the same trust store a login uses."""


def run(*args: str, **env: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _password_file(tmp_path: Path, password: str) -> Path:
    path = tmp_path / "pw"
    path.write_text(password + "\n")
    return path


def test_provision_admin_from_a_p12_with_a_password_file(pki_site: PkiSite, tmp_path: Path) -> None:
    cert = pki_site.issue_user("Admin, Ada")
    out = run(
        "provision-admin",
        "--cert",
        str(cert.p12),
        "--password-file",
        str(_password_file(tmp_path, cert.password)),
    )
    user = User.objects.get(certificate_identities__subject_dn=cert.info.subject_dn)
    assert out == f"{user.username} is a superuser; certificate CN=Admin\\, Ada,O=Harness Fleet\n"
    assert user.is_superuser and user.is_staff
    assert not user.has_usable_password()


def test_p12_password_from_the_environment(
    pki_site: PkiSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = pki_site.issue_user("Env Password")
    monkeypatch.setenv("PKI_P12_PASSWORD", cert.password)
    run("grant", "--cert", str(cert.p12), "--role", "clerk")
    assert CertificateIdentity.objects.filter(subject_dn=cert.info.subject_dn).exists()


def test_p12_mistakes_are_one_line(
    pki_site: PkiSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = pki_site.issue_user("Wrong Password")
    monkeypatch.delenv("PKI_P12_PASSWORD", raising=False)
    with pytest.raises(CommandError) as wrong:
        run(
            "grant",
            "--cert",
            str(cert.p12),
            "--role",
            "clerk",
            "--password-file",
            str(_password_file(tmp_path, "nope")),
        )
    assert str(wrong.value) == f"cert: Wrong password for {cert.p12}, or not a .p12 file."
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no prompt
    with pytest.raises(CommandError) as none:
        run("grant", "--cert", str(cert.p12), "--role", "clerk")
    assert str(none.value) == (
        "password: The .p12 needs its password: --password-file, PKI_P12_PASSWORD or a terminal."
    )
    with pytest.raises(CommandError) as missing:
        run("grant", "--cert", str(tmp_path / "absent.pem"), "--role", "clerk")
    assert (
        str(missing.value)
        == f"cert: Cannot read {tmp_path / 'absent.pem'} (No such file or directory)."
    )


def test_grant_by_dn_canonicalises_what_people_type(pki_site: PkiSite) -> None:
    out = run(
        "grant",
        "--subject-dn",
        r"CN=Doe\2C John,O=Harness Fleet",
        "--issuer-dn",
        "CN=Harness Root CA,O=Harness Fleet",
        "--role",
        "viewer",
    )
    assert out.endswith("has role viewer; certificate CN=Doe\\, John,O=Harness Fleet\n")
    with pytest.raises(CommandError) as bad:
        run("grant", "--subject-dn", "Doe, John", "--issuer-dn", "CN=x", "--role", "viewer")
    assert str(bad.value) == "subject DN: 'Doe, John' is not an RFC 4514 distinguished name."
    with pytest.raises(CommandError) as neither:
        run("grant", "--role", "viewer")
    assert str(neither.value) == (
        "--cert: Give --cert FILE, both --subject-dn and --issuer-dn, or --anchor with --upn or "
        "--email."
    )


def test_grant_needs_the_role_groups(pki_site: PkiSite) -> None:
    cert = pki_site.issue_user("No Groups")
    Group.objects.filter(name="issuer").delete()
    with pytest.raises(CommandError) as err:
        run("grant", "--cert", str(cert.cert_pem), "--role", "issuer")
    assert str(err.value) == "role: Group 'issuer' is missing; run `supply migrate` first."
    assert not CertificateIdentity.objects.exists()  # nothing half-done


def test_same_cn_different_dns_get_different_users(pki_site: PkiSite) -> None:
    a = pki_site.issue_user("Doe", org_unit="Alpha")
    b = pki_site.issue_user("Doe", org_unit="Bravo")
    run("grant", "--cert", str(a.cert_pem), "--role", "viewer")
    run("grant", "--cert", str(b.cert_pem), "--role", "viewer")
    users = {m.user_id for m in CertificateIdentity.objects.filter(subject_dn__contains="CN=Doe")}
    assert len(users) == 2


def test_revoke_access_keeps_the_user(pki_site: PkiSite) -> None:
    cert = pki_site.issue_user("Leaving Person")
    run("grant", "--cert", str(cert.cert_pem), "--role", "viewer")
    assert run("revoke-access", "--cert", str(cert.cert_pem)) == (
        "Removed 1 mapping(s) of CN=Leaving Person,O=Harness Fleet\n"
    )
    assert User.objects.filter(username__startswith="Leaving_Person-").count() == 1
    with pytest.raises(CommandError) as again:
        run("revoke-access", "--cert", str(cert.cert_pem))
    assert str(again.value) == "cert: No access is granted to CN=Leaving Person,O=Harness Fleet."


def test_identities_lists_text_and_json(pki_site: PkiSite) -> None:
    assert run("identities") == (
        "No identities; add one with `supply grant` or `supply provision-admin`.\n"
    )
    cert = pki_site.issue_user("Listed Person")
    run("grant", "--cert", str(cert.cert_pem), "--role", "issuer", "--username", "listed")
    run("grant", "--cert", str(cert.cert_pem), "--role", "clerk", "--pin")
    rows: list[dict[str, Any]] = json.loads(run("identities", "--json"))
    assert len(rows) == 2
    pinned = next(r for r in rows if r["fingerprint"])
    assert (pinned["fingerprint"], pinned["roles"]) == (cert.info.sha256, ["clerk"])
    listed = next(r for r in rows if r["username"] == "listed")
    assert listed == {
        "username": "listed",
        "anchor": "local",
        "rule": "subject",
        "value": None,
        "subject_dn": "CN=Listed Person,O=Harness Fleet",
        "issuer_dn": "CN=Harness Root CA,O=Harness Fleet",
        "fingerprint": None,
        "roles": ["issuer"],
        "superuser": False,
        "active": True,
    }
    text = run("identities")
    assert (
        "listed\tissuer\tCN=Listed Person,O=Harness Fleet\t"
        "issuer: CN=Harness Root CA,O=Harness Fleet\n" in text
    )
    assert f"pinned:{cert.info.sha256[:16]}" in text


def test_grant_gives_every_role_named_in_one_call(pki_site: PkiSite) -> None:
    cert = pki_site.issue_user("Several Roles")
    out = run("grant", "--cert", str(cert.cert_pem), "--role", "clerk", "--role", "issuer")
    assert out.endswith(f"has roles clerk, issuer; certificate {cert.info.subject_dn}\n")
    again = run("grant", "--cert", str(cert.cert_pem), "--role", "viewer", "--role", "viewer")
    assert again.endswith(f"has roles clerk, issuer, viewer; certificate {cert.info.subject_dn}\n")
    listed = json.loads(run("identities", "--json"))
    [row] = [r for r in listed if r["subject_dn"] == cert.info.subject_dn]
    assert sorted(row["roles"]) == ["clerk", "issuer", "viewer"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("revoked", "Revoked."),
        ("other-ca", "Not issued by a trusted CA."),
        ("expired", "Expired on "),
        ("no-eku", "Not made for client authentication (no clientAuth EKU)."),
    ],
)
def test_grant_and_provision_admin_refuse_a_certificate_that_cannot_log_in(
    pki_site: PkiSite, kind: str, reason: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    if kind == "revoked":
        cert = pki_site.issue_user("Revoked Grantee")
        pki_site.revoke(cert)
    elif kind == "other-ca":
        cert = pki_site.forge("Stranger", signer="other-ca")
    elif kind == "expired":
        cert = pki_site.forge(
            "Expired", not_before=now - dt.timedelta(days=9), not_after=now - dt.timedelta(days=1)
        )
    else:
        cert = pki_site.forge("No EKU", ekus=())
    for command in (("grant", "--role", "viewer"), ("provision-admin",)):
        with pytest.raises(CommandError) as refused:
            run(command[0], "--cert", str(cert.cert_pem), *command[1:])
        assert str(refused.value).startswith(f"cert: {cert.cert_pem} cannot log in here: {reason}")
        assert str(refused.value).endswith(
            " Renew it or import its CA and CRL, or give --force to bind it anyway."
        )
    assert not CertificateIdentity.objects.filter(subject_dn=cert.info.subject_dn).exists()
    forced = run("grant", "--cert", str(cert.cert_pem), "--role", "viewer", "--force")
    assert forced.endswith(f"has role viewer; certificate {cert.info.subject_dn}\n")
