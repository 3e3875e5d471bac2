"""The PKI home on disk (placeholder: the pki issue owns this module)."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """$PKI_HOME, else $XDG_DATA_HOME/tactical-edge/pki, else ~/.local/share/tactical-edge/pki."""
    env = os.environ.get("PKI_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(xdg).expanduser() / "tactical-edge" / "pki"
