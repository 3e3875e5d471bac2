"""The `supply` console script as a newcomer meets it: --version, and --help listing our commands
first."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

SUPPLY = str(Path(sys.executable).with_name("supply"))


def _supply(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPLY_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [SUPPLY, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_version_is_the_projects(tmp_path: Path) -> None:
    done = _supply(tmp_path, "--version")
    assert (done.returncode, done.stdout) == (
        0,
        f"supply (tactical-edge) {metadata.version('tactical-edge')}\n",
    )


@pytest.mark.parametrize("argv", [(), ("help",), ("--help",)])
def test_help_lists_the_services_commands_first(tmp_path: Path, argv: tuple[str, ...]) -> None:
    done = _supply(tmp_path, *argv)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Usage: supply COMMAND [OPTIONS]")
    ours = lines[
        lines.index("Commands of the supply service:") + 1 : lines.index("Django's own commands:")
        - 1
    ]
    assert max(len(line) for line in lines) <= 96, "wrapped for a terminal"
    # A command's line starts two spaces in; its wrapped summary continues further in.
    names = [line.split()[0] for line in ours if not line.startswith("   ")]
    assert names == sorted(names)
    assert {"grant", "identities", "import-catalog", "check-ledger", "serve"} <= set(names)
    assert "migrate" not in names
    assert (
        "  grant                   Grant one or more roles to the holder of a certificate." in ours
    )
    django_part = " ".join(lines[lines.index("Django's own commands:") + 1 :])
    assert "migrate" in django_part and "grant" not in django_part


def test_bash_completes_commands_through_the_shown_script(tmp_path: Path) -> None:
    script = _supply(tmp_path, "--show-completion").stdout
    assert "complete -F _supply_completion" in script
    (tmp_path / "completion.bash").write_text(script)
    probe = (
        f"source {tmp_path / 'completion.bash'}; COMP_WORDS=(supply gra); COMP_CWORD=1; "
        f'_supply_completion {SUPPLY}; echo "${{COMPREPLY[@]}}"'
    )
    env = {**os.environ, "SUPPLY_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        ["bash", "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (0, "grant\n"), done.stderr
