"""Network addresses as an operator types them, read one way by every command that takes one:
``HOST:PORT``, ``[IPv6]:PORT``, ``PORT`` alone where the host may be left out, and host names.

Callers say what they accept (nginx's ``listen`` takes a bare port, an upstream does not) and word
their own refusal; the splitting and the checks are here.
"""

from __future__ import annotations

import ipaddress
import re

_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def split_host_port(value: str) -> tuple[str, str | None]:
    """``(host, port)`` at the last colon, brackets of an IPv6 host removed. ``port`` is None when
    none is given (``[v6]`` alone, a colon-free value that is not all digits) and a text that
    fails :func:`is_port` when what follows is not one; digits alone are a port with host ``""``."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if not rest:
            return host, None
        return host, rest[1:] if rest.startswith(":") else ""  # "[::1]53": "" is no port
    if ":" not in value:
        return ("", value) if value.isdigit() else (value, None)
    host, _, port = value.rpartition(":")
    return host, port


def is_port(text: str | None) -> bool:
    """1 to 65535, in ASCII digits (str.isdigit alone takes "８０", and int() reads it)."""
    return text is not None and text.isascii() and text.isdigit() and 0 < int(text) < 65536


def ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_host(host: str) -> bool:
    """An IP address or a DNS host name."""
    return ip_address(host) is not None or bool(_HOST_NAME.match(host))
