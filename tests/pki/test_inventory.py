from __future__ import annotations

import datetime as dt

import pytest

from pki.ca import CreatedCA
from pki.crl import revoke
from pki.errors import AmbiguousError, NotFoundError
from pki.home import PkiHome
from pki.inventory import find, list_certs, normalize_serial, show
from pki.issue import UserRequest, issue_server, issue_user
from tests.pki.conftest import PASSPHRASE, PASSWORD


def test_find_by_serial_in_any_form(home: PkiHome, ca: CreatedCA) -> None:
    serial = issue_user(
        home, UserRequest("Jane", password=PASSWORD), passphrase=PASSPHRASE
    ).info.serial
    padded = serial.rjust(len(serial) + len(serial) % 2, "0")
    colons = ":".join(padded[i : i + 2] for i in range(0, len(padded), 2))
    for ident in (serial, serial.lower(), colons, colons.lower(), "00" + serial):
        assert find(home, ident).serial == serial


def test_normalize_serial() -> None:
    assert normalize_serial("0a:1B") == "A1B"
    assert normalize_serial("web.example") is None
    assert normalize_serial("a:b") is None


def test_find_by_name_and_errors(home: PkiHome, ca: CreatedCA) -> None:
    server = issue_server(home, "web.example", passphrase=PASSPHRASE)
    assert find(home, "WEB.example").serial == server.info.serial
    a = issue_user(
        home, UserRequest("John Smith", password=PASSWORD), passphrase=PASSPHRASE
    ).info.serial
    b = issue_user(
        home, UserRequest("John Smith", password=PASSWORD), passphrase=PASSPHRASE
    ).info.serial
    with pytest.raises(AmbiguousError) as err:
        find(home, "John Smith")
    assert (
        str(err.value) == f"ID: 'John Smith' names several certificates ({a}, {b}); use a serial."
    )
    revoke(home, a, "superseded")
    assert find(home, "John Smith").serial == b  # the one unrevoked certificate wins
    with pytest.raises(NotFoundError) as nf:
        find(home, "Nobody")
    assert str(nf.value) == "ID: No certificate with serial or name 'Nobody'."


def test_list_filters(home: PkiHome, ca: CreatedCA) -> None:
    short = issue_user(home, UserRequest("Short", password=PASSWORD, days=5), passphrase=PASSPHRASE)
    long = issue_user(home, UserRequest("Long", password=PASSWORD, days=300), passphrase=PASSPHRASE)
    gone = issue_user(home, UserRequest("Gone", password=PASSWORD, days=5), passphrase=PASSPHRASE)
    revoke(home, gone.info.serial, "cessationOfOperation")
    assert [r.name for r in list_certs(home)] == ["Fleet Root CA", "Short", "Long", "Gone"]
    assert [r.serial for r in list_certs(home, expiring_within=10)] == [short.info.serial]
    assert [r.serial for r in list_certs(home, revoked=True)] == [gone.info.serial]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=290)
    expiring = list_certs(home, expiring_within=30, kind="user", now=later)
    assert [r.serial for r in expiring] == [short.info.serial, long.info.serial]


def test_show_reads_the_certificate(home: PkiHome, ca: CreatedCA) -> None:
    issued = issue_user(home, UserRequest("José Núñez", password=PASSWORD), passphrase=PASSPHRASE)
    row, info = show(home, "José Núñez")
    assert info == issued.info
    assert row.subject_dn == info.subject_dn == "CN=José Núñez,O=Fleet"
    assert row.to_json()["subject"] == "CN=José Núñez,O=Fleet"


def test_list_without_ca(home: PkiHome) -> None:
    with pytest.raises(Exception) as err:
        list_certs(home)
    assert str(err.value) == f"CA: No CA in {home.root}; create one with `pki init-ca`."
