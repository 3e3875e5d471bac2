from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.ca import CreatedCA, init_ca, load_ca_cert
from pki.certinfo import describe, load_pem
from pki.errors import InputError
from pki.home import PkiHome
from pki.inventory import list_certs
from pki.issue import UserRequest, issue_server, issue_user
from tests.pki.checks import assert_is_leaf, key_type_name
from tests.pki.conftest import PASSPHRASE, PASSWORD, PEM_PASSWORD, mode


@pytest.mark.parametrize("key_type", ["ec-p256", "ec-p384", "rsa-2048"])
def test_server_profile(home: PkiHome, ca: CreatedCA, key_type: str) -> None:
    issued = issue_server(
        home,
        "Web.Example",
        sans=["10.0.0.1", "localhost", "::1"],
        key_type=key_type,
        passphrase=PASSPHRASE,
    )
    cert = load_pem(issued.cert_path.read_bytes())
    assert_is_leaf(cert, load_ca_cert(home), ExtendedKeyUsageOID.SERVER_AUTH)
    assert key_type_name(cert) == key_type
    assert issued.info.sans == ("DNS:web.example", "IP:10.0.0.1", "DNS:localhost", "IP:::1")
    assert issued.info.subject_dn == "CN=web.example,O=Fleet"
    assert (issued.info.not_after - issued.info.not_before).days == 397
    key = load_pem_private_key(issued.key_path.read_bytes(), password=None)
    assert key.public_key() == cert.public_key()
    assert (
        issued.chain_path.read_bytes() == issued.cert_path.read_bytes() + ca.cert_path.read_bytes()
    )
    assert mode(issued.key_path) == 0o600
    assert mode(issued.key_path.parent) == 0o700
    assert home.issued_cert(issued.info.serial).read_bytes() == issued.cert_path.read_bytes()


def test_server_name_is_in_sans_once(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_server(home, "10.1.2.3", sans=["IP:10.1.2.3", "DNS:edge"], passphrase=PASSPHRASE)
    assert issued.info.sans == ("IP:10.1.2.3", "DNS:edge")


def test_server_days_limit_825(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_server(home, "web", days=825, passphrase=PASSPHRASE)
    assert (issued.info.not_after - issued.info.not_before).days == 825
    with pytest.raises(InputError) as err:
        issue_server(home, "web2", days=826, passphrase=PASSPHRASE)
    assert str(err.value) == "days: server certificates last 1 to 825 days, not 826."


def test_server_duplicate_name_refused_then_replaced(home: PkiHome, ca: CreatedCA) -> None:
    first = issue_server(home, "web", passphrase=PASSPHRASE)
    with pytest.raises(InputError) as err:
        issue_server(home, "WEB", passphrase=PASSPHRASE)
    assert str(err.value) == (
        f"name: web has a valid certificate already ({first.info.serial}); "
        "pass --replace to supersede it."
    )
    second = issue_server(home, "web", replace=True, passphrase=PASSPHRASE)
    assert second.superseded == (first.info.serial,)
    rows = {r.serial: r for r in list_certs(home, kind="server")}
    assert rows[first.info.serial].status == "revoked"
    assert rows[first.info.serial].reason == "superseded"
    assert rows[second.info.serial].status == "valid"
    assert load_pem(second.cert_path.read_bytes()).serial_number == int(second.info.serial, 16)


@pytest.mark.parametrize(
    ("name", "sans", "message"),
    [
        ("bad_name", (), "SAN: 'bad_name' is neither an IP address nor a valid DNS name."),
        ("web", ["-x.example"], "SAN: '-x.example' is neither an IP address nor a valid DNS name."),
        ("web", ["IP:999.1.1.1"], "SAN: 'IP:999.1.1.1' is not an IP address."),
        (
            "web",
            ["bücher.example"],
            "SAN: 'bücher.example' is not ASCII; give the xn-- (punycode) form.",
        ),
        ("web", ["*.example"], "SAN: '*.example' is neither an IP address nor a valid DNS name."),
        ("web", ["10.0.0.256"], "SAN: '10.0.0.256' looks like an IP address but is not one."),
        ("10.1.2", (), "SAN: '10.1.2' looks like an IP address but is not one."),
        (
            "*.edge.example",
            (),
            "NAME: '*.edge.example' is a wildcard; name the server by a host name and add the "
            "wildcard with --san.",
        ),
    ],
)
def test_server_bad_san(
    home: PkiHome, ca: CreatedCA, name: str, sans: list[str], message: str
) -> None:
    with pytest.raises(InputError) as err:
        issue_server(home, name, sans=sans, passphrase=PASSPHRASE)
    assert str(err.value) == message
    assert list_certs(home, kind="server") == []


def test_wildcard_san_allowed_as_extra(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_server(home, "edge.example", sans=["*.edge.example"], passphrase=PASSPHRASE)
    assert issued.info.sans == ("DNS:edge.example", "DNS:*.edge.example")


@pytest.mark.parametrize(
    "full_name",
    ["Doe, Jane", "José Núñez", 'Smith + "Jr" <x>; =#', "  spaced  ", "Zoë O'Brien\\"],
)
def test_user_dn_round_trips_exactly(home: PkiHome, ca: CreatedCA, full_name: str) -> None:
    issued = issue_user(home, UserRequest(full_name, password=PASSWORD), passphrase=PASSPHRASE)
    cert = load_pem(issued.cert_path.read_bytes())
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == full_name
    assert describe(cert) == issued.info
    # RFC 4514 is reversible: parsing the canonical string gives back the same name.
    assert x509.Name.from_rfc4514_string(issued.info.subject_dn) == cert.subject
    [row] = list_certs(home, kind="user")
    assert (row.name, row.subject_dn) == (full_name, issued.info.subject_dn)


def test_user_profile_with_email_and_org_unit(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_user(
        home,
        UserRequest(
            "Doe, Jane", password=PASSWORD, email="jane@example.org", org_unit="S4 Logistics"
        ),
        passphrase=PASSPHRASE,
    )
    cert = load_pem(issued.cert_path.read_bytes())
    assert_is_leaf(cert, load_ca_cert(home), ExtendedKeyUsageOID.CLIENT_AUTH)
    ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert issued.info.sans == ("email:jane@example.org",)
    assert issued.info.subject_dn == r"CN=Doe\, Jane,OU=S4 Logistics,O=Fleet"
    assert issued.info.client_auth and not issued.info.server_auth
    assert (issued.info.not_after - issued.info.not_before).days == 365
    assert issued.p12_path == home.users_dir / f"Doe_Jane-{issued.info.serial}.p12"
    assert mode(issued.p12_path) == 0o600


def test_user_without_email_has_only_client_auth(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    cert = load_pem(issued.cert_path.read_bytes())
    ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_user_out_never_overwrites(home: PkiHome, ca: CreatedCA, tmp_path) -> None:
    out = tmp_path / "jane.p12"
    out.write_bytes(b"precious")
    with pytest.raises(InputError) as err:
        issue_user(home, UserRequest("Jane", password=PASSWORD, out=out), passphrase=PASSPHRASE)
    assert str(err.value) == f"out: {out} exists already."
    assert out.read_bytes() == b"precious"
    assert list_certs(home, kind="user") == []


def test_user_pem_export(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_user(
        home, UserRequest("Jane", password=PEM_PASSWORD, pem=True), passphrase=PASSPHRASE
    )
    assert issued.p12_path is None and issued.key_path is not None
    key = load_pem_private_key(issued.key_path.read_bytes(), password=PEM_PASSWORD)
    assert key.public_key() == load_pem(issued.cert_path.read_bytes()).public_key()
    assert mode(issued.key_path) == 0o600


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "not-an-email"}, "email: 'not-an-email' is not an ASCII email address."),
        ({"password": b"short"}, "password: Too short; use at least 8 characters."),
        (
            {"password": PASSWORD, "pem": True},
            "password: Too short; use at least 16 characters.",
        ),
        ({"days": 4000}, "days: user certificates last 1 to 3650 days, not 4000."),
        ({"full_name": "x" * 65}, "name: At most 64 characters (RFC 5280), got 65."),
        ({"full_name": "a\nb"}, "name: Control characters are not allowed."),
        ({"full_name": ""}, "name: Must not be empty."),
    ],
)
def test_user_bad_input(
    home: PkiHome, ca: CreatedCA, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"full_name": "Jane", "password": PASSWORD, **kwargs}
    request = UserRequest(**args)  # type: ignore[arg-type]
    with pytest.raises(Exception) as err:
        issue_user(home, request, passphrase=PASSPHRASE)
    assert str(err.value) == message
    assert list_certs(home, kind="user") == []


def test_leaf_may_not_outlive_the_ca(home: PkiHome) -> None:
    init_ca(home, name="Short CA", days=30, passphrase=PASSPHRASE)
    with pytest.raises(InputError) as err:
        issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    ca_end = load_ca_cert(home).not_valid_after_utc
    assert (
        str(err.value)
        == f"days: The certificate would outlive the CA, which expires {ca_end:%Y-%m-%d}."
    )
    issued = issue_user(
        home, UserRequest("Jane", password=PASSWORD, days=29), passphrase=PASSPHRASE
    )
    assert issued.info.not_after <= ca_end


def test_not_before_is_backdated_for_slow_clocks(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    lag = dt.datetime.now(dt.UTC) - issued.info.not_before
    assert dt.timedelta(minutes=59) < lag < dt.timedelta(minutes=61)


def test_serials_distinct(home: PkiHome, ca: CreatedCA) -> None:
    serials = {
        issue_user(
            home, UserRequest(f"User {i}", password=PASSWORD), passphrase=PASSPHRASE
        ).info.serial
        for i in range(5)
    }
    assert len(serials) == 5
