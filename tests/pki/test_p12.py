from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from pki.ca import CreatedCA, load_ca_cert
from pki.home import PkiHome
from pki.issue import UserRequest, issue_user
from tests.pki.conftest import PASSPHRASE, PASSWORD


@pytest.mark.parametrize("legacy", [False, True])
def test_p12_carries_key_cert_chain_and_friendly_name(
    home: PkiHome, ca: CreatedCA, legacy: bool
) -> None:
    issued = issue_user(
        home, UserRequest("José Núñez", password=PASSWORD, legacy=legacy), passphrase=PASSPHRASE
    )
    assert issued.p12_path is not None
    bundle = pkcs12.load_pkcs12(issued.p12_path.read_bytes(), PASSWORD)
    assert bundle.key is not None and bundle.cert is not None
    assert bundle.cert.certificate.public_key() == bundle.key.public_key()
    assert bundle.cert.friendly_name == "José Núñez".encode()
    assert [c.certificate for c in bundle.additional_certs] == [load_ca_cert(home)]
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(issued.p12_path.read_bytes(), b"wrong password")
