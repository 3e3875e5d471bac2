"""Settings mistakes are one line on stderr, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUPPLY = str(Path(sys.executable).with_name("supply"))


@pytest.mark.parametrize("days", ["abc", "0", "-3", "1.5"])
def test_bad_idempotency_days(tmp_path, days):
    env = {**os.environ, "SUPPLY_DATA_DIR": str(tmp_path), "SUPPLY_IDEMPOTENCY_DAYS": days}
    done = subprocess.run([SUPPLY, "check"], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        1,
        f"SUPPLY_IDEMPOTENCY_DAYS: {days!r} is not a whole number of days.\n",
    )
