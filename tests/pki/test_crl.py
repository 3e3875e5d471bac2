from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from pki.ca import CreatedCA, load_ca_cert, write_crl
from pki.crl import REASONS, crl_status, revoke
from pki.errors import InputError, PassphraseError
from pki.home import PkiHome
from pki.issue import UserRequest, issue_server, issue_user
from tests.pki.conftest import PASSPHRASE, PASSWORD


def _crl(home: PkiHome) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(home.crl.read_bytes())


def test_revoke_then_crl_lists_serial_with_reason(home: PkiHome, ca: CreatedCA) -> None:
    jane = issue_user(home, UserRequest("Doe, Jane", password=PASSWORD), passphrase=PASSPHRASE)
    keep = issue_user(home, UserRequest("Keep", password=PASSWORD), passphrase=PASSPHRASE)
    row = revoke(home, "Doe, Jane", "KEYCOMPROMISE")
    assert (row.serial, row.status, row.reason) == (jane.info.serial, "revoked", "keyCompromise")
    assert len(_crl(home)) == 0  # not published until write_crl
    info = write_crl(home, passphrase=PASSPHRASE)
    crl = _crl(home)
    assert info.revoked == 1 and info.number == 2
    assert crl.is_signature_valid(load_ca_cert(home).public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(int(jane.info.serial, 16))
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(int(keep.info.serial, 16)) is None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = load_ca_cert(home).extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ca_ski.value.digest
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == dt.timedelta(days=30)


def test_unspecified_reason_has_no_reason_extension(home: PkiHome, ca: CreatedCA) -> None:
    user = issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    revoke(home, user.info.serial, "unspecified")
    write_crl(home, passphrase=PASSPHRASE)
    entry = _crl(home).get_revoked_certificate_by_serial_number(int(user.info.serial, 16))
    assert entry is not None
    assert len(entry.extensions) == 0  # RFC 5280 5.3.1


def test_revoke_twice_is_refused(home: PkiHome, ca: CreatedCA) -> None:
    user = issue_user(home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE)
    revoke(home, user.info.serial, "superseded")
    with pytest.raises(InputError) as err:
        revoke(home, user.info.serial, "keyCompromise")
    today = dt.datetime.now(dt.UTC)
    assert (
        str(err.value)
        == f"ID: {user.info.serial} is already revoked (superseded, {today:%Y-%m-%d})."
    )


def test_revoke_rejects_unknown_reason_and_the_ca(home: PkiHome, ca: CreatedCA) -> None:
    server = issue_server(home, "web", passphrase=PASSPHRASE)
    with pytest.raises(InputError) as err:
        revoke(home, server.info.serial, "lost")
    assert str(err.value) == f"reason: Unknown reason 'lost'; choose one of {', '.join(REASONS)}."
    with pytest.raises(InputError) as err:
        revoke(home, ca.info.serial, "keyCompromise")
    assert str(err.value) == "ID: The CA cannot revoke itself; retire the whole PKI home instead."


def test_crl_numbers_increase_and_days(home: PkiHome, ca: CreatedCA) -> None:
    numbers = [write_crl(home, passphrase=PASSPHRASE, days=d).number for d in (1, 60)]
    assert numbers == [2, 3]
    crl = _crl(home)
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == dt.timedelta(days=60)
    with pytest.raises(InputError) as err:
        write_crl(home, passphrase=PASSPHRASE, days=0)
    assert str(err.value) == "days: A CRL lasts 1 to 366 days, not 0."


def test_write_crl_wrong_passphrase_leaves_crl(home: PkiHome, ca: CreatedCA) -> None:
    before = home.crl.read_bytes()
    with pytest.raises(PassphraseError):
        write_crl(home, passphrase=b"wrong passphrase")
    assert home.crl.read_bytes() == before


def test_crl_status_warns_within_seven_days_and_when_expired(home: PkiHome, ca: CreatedCA) -> None:
    write_crl(home, passphrase=PASSPHRASE, days=30)
    fresh = crl_status(home)
    assert fresh is not None and fresh.warning() is None
    nxt = fresh.next_update
    near = crl_status(home, now=nxt - dt.timedelta(days=6))
    assert near is not None and near.expiring and not near.expired
    assert near.warning() == (
        f"WARNING: the CRL expires at {nxt:%Y-%m-%d %H:%M} UTC; after that nginx rejects EVERY "
        "client certificate. Run `pki crl` and reload nginx before then."
    )
    gone = crl_status(home, now=nxt + dt.timedelta(seconds=1))
    assert gone is not None and gone.expired
    assert gone.warning() == (
        f"WARNING: the CRL expired at {nxt:%Y-%m-%d %H:%M} UTC; nginx now rejects EVERY client "
        "certificate. Run `pki crl` and reload nginx."
    )
