"""Distinguished names as laws: for arbitrary names (any Unicode, the characters RFC 4514 escapes,
leading and trailing spaces, multi-valued RDNs, CN/O/OU/emailAddress/UID/DC/serialNumber and
more), a certificate signed by the real CA and handed to the service as nginx hands it
(`$ssl_client_escaped_cert`, plus `$ssl_client_s_dn` as OpenSSL's RFC 2253 rendering) logs in
with the identity the certificate carries:

- the subject DN the service derives is the certificate subject's RFC 4514 string, and parsing it
  back gives the same name (the string form loses nothing, so two names never share a key);
- that string, typed back as `supply grant --subject-dn` does (`canonical_dn`), is the same string,
  also when it ends in whitespace (canonical_dn used to strip it: see the test at the end);
- a grant made from the typed DNs maps that certificate to its user, and a grant made from the
  certificate itself lands on the same mapping;
- the `X-Client-S-DN` header plays no part: whatever it says, the identity is the same.
"""

from __future__ import annotations

import subprocess
import urllib.parse

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from supply.identity import services
from supply.identity.dn import canonical_dn
from supply.identity.errors import LoginFailure
from supply.identity.login import certificate_login
from supply.identity.models import CertificateIdentity
from tests.harness.pki_site import PkiSite
from tests.supply.conftest import ensure_reference_data
from tests.supply.identity.conftest import Edge

pytestmark = pytest.mark.django_db

# The characters RFC 4514 section 2.4 escapes (anywhere, or at the start or end), a few that look
# like them, and non-ASCII from several scripts; then anything printable.
_TRICKY = list(',+"\\<>;#= =\t') + list("ÑñéüßØЖжΩ中文日本語한국어🙂\u00a0\u200b\u0301")
utf8_values = st.text(
    st.one_of(
        st.sampled_from(_TRICKY),
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
    ),
    min_size=1,
    max_size=24,
)
# PrintableString (X.680 section 41.4): serialNumber and countryName are encoded with it.
_PRINTABLE = "ABCXYZabcxyz0129 '()+,-./:=?"
printable_values = st.text(st.sampled_from(_PRINTABLE), min_size=1, max_size=16)
# IA5String (ASCII): emailAddress and domainComponent.
ia5_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=24)

attributes = st.one_of(
    st.builds(
        x509.NameAttribute,
        st.sampled_from(
            [
                NameOID.COMMON_NAME,
                NameOID.ORGANIZATION_NAME,
                NameOID.ORGANIZATIONAL_UNIT_NAME,
                NameOID.USER_ID,
                NameOID.LOCALITY_NAME,
                NameOID.STATE_OR_PROVINCE_NAME,
                NameOID.GIVEN_NAME,
                NameOID.SURNAME,
                NameOID.TITLE,
                NameOID.PSEUDONYM,
            ]
        ),
        utf8_values,
    ),
    st.builds(x509.NameAttribute, st.just(NameOID.SERIAL_NUMBER), printable_values),
    st.builds(
        x509.NameAttribute,
        st.sampled_from([NameOID.EMAIL_ADDRESS, NameOID.DOMAIN_COMPONENT]),
        ia5_values,
    ),
    st.builds(
        x509.NameAttribute,
        st.just(NameOID.COUNTRY_NAME),
        st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=2),
    ),
)
# An RDN holds a SET of attributes: one mostly, up to three (no attribute twice).
rdns = st.builds(
    x509.RelativeDistinguishedName,
    st.one_of(
        st.lists(attributes, min_size=1, max_size=1),
        st.lists(attributes, min_size=2, max_size=3, unique_by=lambda a: (a.oid, a.value)),
    ),
)
names = st.builds(x509.Name, st.lists(rdns, min_size=1, max_size=5))

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def nginx_s_dn(pem: bytes) -> str:
    """`$ssl_client_s_dn`: nginx prints the subject with X509_NAME_print_ex(XN_FLAG_RFC2253),
    which is what `openssl x509 -nameopt RFC2253` prints."""
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
        input=pem,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return out.decode("utf-8", "replace").strip().removeprefix("subject=")


def headers(edge: Edge, pem: bytes, s_dn: str) -> dict[str, str]:
    """What nginx sends upstream: `$ssl_client_escaped_cert` is the PEM URL-encoded."""
    return {
        "HTTP_X_PROXY_SECRET": edge.secret,
        "HTTP_X_CLIENT_VERIFY": "SUCCESS",
        "HTTP_X_CLIENT_CERT": urllib.parse.quote(pem.decode("ascii"), safe=""),
        "HTTP_X_CLIENT_S_DN": s_dn,
    }


@PROPERTY_SETTINGS
@given(subject=names, role=st.sampled_from(["viewer", "clerk", "issuer", "manager"]))
def test_a_certificate_logs_in_as_the_dn_it_carries(
    edge: Edge, pki_site: PkiSite, subject: x509.Name, role: str
) -> None:
    forged = pki_site.forge("dn-property", subject=subject)
    cert = pki_site.load_cert(forged)
    pem = forged.cert_pem.read_bytes()
    meta = headers(edge, pem, nginx_s_dn(pem))
    with transaction.atomic():
        ensure_reference_data()
        # A certificate nobody granted: refused, but the service names the DN it derived.
        unknown = _login_failure(meta)
        assert unknown.reason == "unknown"
        assert unknown.info is not None
        info = unknown.info
        # The service's DN is the certificate's, and it reads back as the same name.
        assert info.subject_dn == cert.subject.rfc4514_string()
        assert x509.Name.from_rfc4514_string(info.subject_dn) == cert.subject
        assert [list(rdn) for rdn in x509.Name.from_rfc4514_string(info.subject_dn).rdns] == [
            list(rdn) for rdn in cert.subject.rdns
        ]
        # Typed back (the 403 page, `pki show`), the DN is the same lookup key, and a grant by
        # the typed DNs maps this certificate to its user.
        assert canonical_dn(info.issuer_dn, "issuer DN") == info.issuer_dn
        assert canonical_dn(info.subject_dn, "subject DN") == info.subject_dn
        binding = services.Binding.from_dns(info.subject_dn, info.issuer_dn)
        user = services.grant(binding, role)
        login = certificate_login(meta)
        assert login is not None and login.user == user
        assert login.info.subject_dn == info.subject_dn
        # ... and a grant from the certificate itself is the same mapping, not a second one.
        assert services.grant(services.Binding.from_certificate(cert), role) == user
        assert CertificateIdentity.objects.filter(user=user).count() == 1
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(subject=names, told=st.one_of(names.map(x509.Name.rfc4514_string), st.text(max_size=40)))
def test_the_s_dn_header_plays_no_part(
    edge: Edge, pki_site: PkiSite, subject: x509.Name, told: str
) -> None:
    forged = pki_site.forge("dn-header", subject=subject)
    pem = forged.cert_pem.read_bytes()
    honest = _login_failure(headers(edge, pem, nginx_s_dn(pem)))
    # Header values travel as latin-1 in WSGI; any string stands for what a client could send.
    lying = _login_failure(headers(edge, pem, told))
    assert honest.info == lying.info == forged.info


# --- a finding of these properties, fixed ------------------------------------------------------

# The least specific RDN comes last in the RFC 4514 string: a value there that ends in a space
# (escaped `\ `) or other whitespace (a tab, NO-BREAK SPACE, IDEOGRAPHIC SPACE: not escaped) ends
# the string.
trailing_whitespace = st.builds(
    "{}{}".format,
    st.text(st.characters(categories=["L", "N"]), max_size=8),
    st.sampled_from([" ", "\t", "\u00a0", "\u2003", "\u3000"]),
)


# The examples are small already: no shrinking.
@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(last=trailing_whitespace, cn=utf8_values)
def test_a_dn_ending_in_whitespace_types_back_as_itself(
    edge: Edge, pki_site: PkiSite, last: str, cn: str
) -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, last),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )
    forged = pki_site.forge("dn-trailing", subject=subject)
    pem = forged.cert_pem.read_bytes()
    info = _login_failure(headers(edge, pem, nginx_s_dn(pem))).info
    assert info is not None
    assert canonical_dn(info.subject_dn, "subject DN") == info.subject_dn


def _login_failure(meta: dict[str, str]) -> LoginFailure:
    with pytest.raises(LoginFailure) as failure:
        certificate_login(meta)
    return failure.value
