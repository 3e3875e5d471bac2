"""Multi-valued RDNs (``CN=Doe+UID=jdoe``): a certificate encodes the attributes of an RDN in DER
order, and a DN typed by hand must follow it; any other order is refused with the spelling to use,
so no mapping can exist under a spelling that no certificate has."""

from __future__ import annotations

import io
import itertools

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from django.core.management.base import CommandError

from supply.identity.dn import canonical_dn
from supply.identity.errors import IdentityError
from supply.identity.models import CertificateIdentity
from tests.harness.pki_site import PkiSite

ISSUER = "CN=Harness Root CA,O=Harness Fleet"
RDNS = [
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "Doe"),
        x509.NameAttribute(NameOID.USER_ID, "jdoe"),
    ],
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "Zed Doe, Jr."),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Bravo"),
        x509.NameAttribute(NameOID.EMAIL_ADDRESS, "zed@example.org"),
    ],
    [  # values past 127 bytes: long-form DER lengths
        x509.NameAttribute(NameOID.COMMON_NAME, "Ñ" * 32),
        x509.NameAttribute(NameOID.PSEUDONYM, "Núñez " * 30),
    ],
]


def _name(attributes: tuple[x509.NameAttribute[str], ...]) -> x509.Name:
    return x509.Name(
        [
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Harness Fleet")]
            ),
            x509.RelativeDistinguishedName(attributes),
        ]
    )


@pytest.mark.parametrize("attributes", RDNS, ids=["cn-uid", "cn-ou-email", "long"])
def test_only_the_certificates_order_is_accepted(
    pki_site: PkiSite, attributes: list[x509.NameAttribute[str]]
) -> None:
    spellings = {_name(order).rfc4514_string() for order in itertools.permutations(attributes)}
    assert len(spellings) == len(list(itertools.permutations(attributes)))
    for order in itertools.permutations(attributes):
        # Whatever order the issuer built it in, the certificate carries one DN: the DER order.
        cert = pki_site.forge("multi", subject=_name(order))
        assert canonical_dn(cert.info.subject_dn) == cert.info.subject_dn
        others = spellings - {cert.info.subject_dn}
        for typed in others:
            with pytest.raises(IdentityError) as err:
                canonical_dn(typed, "subject DN")
            assert str(err.value) == (
                "subject DN: A multi-valued RDN must be typed in the certificate's order: "
                f"{cert.info.subject_dn!r}."
            )


@pytest.mark.django_db
def test_grant_by_typed_dn_in_the_wrong_order_stores_nothing(pki_site: PkiSite) -> None:
    cert = pki_site.forge("multi", subject=_name(tuple(RDNS[0])))
    assert cert.info.subject_dn == "CN=Doe+UID=jdoe,O=Harness Fleet"
    args = ("--issuer-dn", ISSUER, "--role", "viewer")
    with pytest.raises(CommandError) as err:
        call_command("grant", "--subject-dn", "UID=jdoe+CN=Doe,O=Harness Fleet", *args)
    assert str(err.value) == (
        "subject DN: A multi-valued RDN must be typed in the certificate's order: "
        "'CN=Doe+UID=jdoe,O=Harness Fleet'."
    )
    assert not CertificateIdentity.objects.exists()
    out = io.StringIO()
    call_command("grant", "--subject-dn", cert.info.subject_dn, *args, stdout=out)
    mapping = CertificateIdentity.objects.get()
    assert mapping.subject_dn == cert.info.subject_dn
    assert out.getvalue().endswith(f"has role viewer; certificate {cert.info.subject_dn}\n")
