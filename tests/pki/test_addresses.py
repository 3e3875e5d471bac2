"""pki.addresses: the one reading of HOST:PORT that nginx-config (and supply serve) share."""

from __future__ import annotations

import pytest

from pki import addresses


@pytest.mark.parametrize(
    ("value", "split"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", "8000")),
        ("supply:8000", ("supply", "8000")),
        ("[::1]:8443", ("::1", "8443")),
        ("[::1]", ("::1", None)),
        ("[::1]53", ("::1", "")),
        ("8443", ("", "8443")),
        ("localhost", ("localhost", None)),
        ("host:", ("host", "")),
        (":80", ("", "80")),
    ],
)
def test_split_host_port(value: str, split: tuple[str, str | None]) -> None:
    assert addresses.split_host_port(value) == split


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1", True),
        ("65535", True),
        ("0", False),
        ("65536", False),
        ("", False),
        (None, False),
        ("８０", False),  # full-width digits: isdigit() says yes, int() reads 80
        ("+80", False),
        ("80 ", False),
    ],
)
def test_is_port(text: str | None, valid: bool) -> None:
    assert addresses.is_port(text) is valid


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("localhost", True),
        ("supply.internal", True),
        ("10.0.0.1", True),
        ("::1", True),
        ("bad_host", False),
        ("-lead", False),
        ("", False),
        ("a" * 254, False),
    ],
)
def test_is_host(host: str, valid: bool) -> None:
    assert addresses.is_host(host) is valid
