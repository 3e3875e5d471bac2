"""Settings mistakes are one line on stderr, not a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import stat
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


SHOW = """
import django, hashlib, json
from django.conf import settings
print(json.dumps({
    "key": hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest(),
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
}))
"""


def show(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SHOW],
        env={**env, "DJANGO_SETTINGS_MODULE": "supply.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    parsed: dict[str, object] = json.loads(out)
    return parsed


def newcomer_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "SUPPLY_DATA_DIR": str(tmp_path / "data")}
    for name in ("DATABASE_URL", "SUPPLY_SECRET_KEY", "SUPPLY_DEBUG"):
        env.pop(name, None)
    return env


def test_newcomer_defaults_need_no_setup(tmp_path):
    """Processes starting at once share one generated key, kept 0600; SQLite in the data
    directory; debug off."""
    env = newcomer_env(tmp_path)
    results = [result(p) for p in [show(env) for _ in range(4)]]
    assert len({str(r["key"]) for r in results}) == 1
    key_file = tmp_path / "data" / "secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["secret-key"]
    again = result(show(env))
    assert again == results[0]
    assert (again["debug"], again["engine"], again["name"]) == (
        False,
        "django.db.backends.sqlite3",
        str(tmp_path / "data" / "supply.sqlite3"),
    )


def test_secret_key_from_the_environment_writes_no_file(tmp_path):
    env = {**newcomer_env(tmp_path), "SUPPLY_SECRET_KEY": "k" * 50}
    shown = result(show(env))
    assert shown["key"] == hashlib.sha256(b"k" * 50).hexdigest()
    assert not (tmp_path / "data" / "secret-key").exists()


def test_empty_secret_key_file_is_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret-key").write_text("\n")
    done = subprocess.run(
        [SUPPLY, "check"], env=newcomer_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (
        1,
        f"{tmp_path / 'data' / 'secret-key'}: the secret key file is empty; "
        "delete it to generate a new one.\n",
    )
