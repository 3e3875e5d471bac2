from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from pki.ca import init_ca, load_ca, load_ca_cert
from pki.errors import CAExistsError, InputError, NoCAError, PassphraseError
from pki.home import PkiHome
from pki.keys import KEY_TYPES
from tests.pki.checks import assert_is_ca, key_type_name
from tests.pki.conftest import PASSPHRASE, mode


@pytest.mark.parametrize("key_type", sorted(KEY_TYPES))
def test_init_ca_profile_for_every_key_type(home: PkiHome, key_type: str) -> None:
    created = init_ca(home, name="Fleet Root CA", key_type=key_type, passphrase=PASSPHRASE)
    cert = load_ca_cert(home)
    assert_is_ca(cert)
    assert key_type_name(cert) == key_type
    assert created.info.subject_dn == "CN=Fleet Root CA"
    assert created.info.is_ca
    expected_hash = "sha384" if key_type == "ec-p384" else "sha256"
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == expected_hash


def test_ca_defaults_ten_years_and_dn_order(home: PkiHome) -> None:
    created = init_ca(home, name="Fleet Root CA", org="Fleet", country="us", passphrase=PASSPHRASE)
    assert created.info.subject_dn == "CN=Fleet Root CA,O=Fleet,C=US"
    assert (created.info.not_after - created.info.not_before).days == 3650


def test_ca_key_encrypted_at_rest_and_private(home: PkiHome) -> None:
    init_ca(home, name="Fleet Root CA", passphrase=PASSPHRASE)
    pem = home.ca_key.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        load_pem_private_key(pem, password=None)
    assert load_pem_private_key(pem, password=PASSPHRASE)
    for path in (home.ca_key, home.ca_cert, home.crl, home.index_path):
        assert mode(path) == 0o600, path
    for path in (home.root, home.ca_dir, home.issued_dir):
        assert mode(path) == 0o700, path


def test_init_ca_writes_an_empty_crl(home: PkiHome) -> None:
    init_ca(home, name="Fleet Root CA", passphrase=PASSPHRASE)
    crl = x509.load_pem_x509_crl(home.crl.read_bytes())
    assert len(crl) == 0
    assert crl.is_signature_valid(load_ca_cert(home).public_key())  # type: ignore[arg-type]
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1


def test_init_ca_refuses_to_overwrite(home: PkiHome) -> None:
    init_ca(home, name="First", passphrase=PASSPHRASE)
    before = home.ca_cert.read_bytes(), home.ca_key.read_bytes()
    with pytest.raises(CAExistsError) as err:
        init_ca(home, name="Second", passphrase=PASSPHRASE)
    assert str(err.value) == f"CA: {home.ca_cert} exists already; refusing to overwrite it."
    assert (home.ca_cert.read_bytes(), home.ca_key.read_bytes()) == before


def test_init_ca_never_overwrites_a_key_without_its_certificate(home: PkiHome) -> None:
    init_ca(home, name="First", passphrase=PASSPHRASE)
    key = home.ca_key.read_bytes()
    # As if killed before the last rename, or the certificate was moved away to distribute it.
    home.ca_cert.unlink()
    with pytest.raises(CAExistsError) as err:
        init_ca(home, name="Second", passphrase=PASSPHRASE)
    assert str(err.value) == (
        f"CA: {home.ca_key} exists without cert.pem; restore the certificate, "
        "or move the key away to create a new CA."
    )
    assert home.ca_key.read_bytes() == key
    home.ca_key.rename(home.ca_dir / "old-key.pem")
    init_ca(home, name="Second", passphrase=PASSPHRASE)
    assert load_ca(home, PASSPHRASE).cert.subject.rfc4514_string() == "CN=Second"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"key_type": "dsa-1024"},
            "key type: Unknown key type 'dsa-1024'; choose one of "
            "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096.",
        ),
        ({"country": "USA"}, "country: Use a two-letter ISO 3166 code such as US, not 'USA'."),
        ({"days": 0}, "days: ca certificates last 1 to 36500 days, not 0."),
        ({"name": " "}, "name: The CA needs a name."),
        ({"passphrase": b"short"}, "CA passphrase: Too short; use at least 16 characters."),
        # 15 characters (30 bytes in UTF-8): characters count, not bytes.
        (
            {"passphrase": "é" * 15},
            "CA passphrase: Too short; use at least 16 characters.",
        ),
    ],
)
def test_init_ca_rejects_bad_input(home: PkiHome, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"name": "Fleet Root CA", "passphrase": PASSPHRASE, **kwargs}
    if isinstance(args["passphrase"], str):
        args["passphrase"] = args["passphrase"].encode()
    with pytest.raises((InputError, PassphraseError)) as err:
        init_ca(home, **args)  # type: ignore[arg-type]
    assert str(err.value) == message
    assert not home.ca_cert.exists()


def test_ca_passphrase_of_sixteen_characters_is_enough(home: PkiHome) -> None:
    init_ca(home, name="Fleet Root CA", passphrase=("é" * 16).encode())
    assert load_ca(home, ("é" * 16).encode()).cert.subject.rfc4514_string() == "CN=Fleet Root CA"


def test_load_ca_wrong_passphrase(home: PkiHome) -> None:
    init_ca(home, name="Fleet Root CA", passphrase=PASSPHRASE)
    with pytest.raises(PassphraseError) as err:
        load_ca(home, b"not the passphrase")
    assert str(err.value) == "CA passphrase: Wrong passphrase (cannot decrypt the key)."


def test_load_ca_without_ca(home: PkiHome) -> None:
    with pytest.raises(NoCAError) as err:
        load_ca(home, PASSPHRASE)
    assert str(err.value) == f"CA: No CA in {home.root}; create one with `pki init-ca`."
