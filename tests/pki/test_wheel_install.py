"""An installed wheel (not a checkout) renders the nginx config: the template, its error pages and
the web app travel as the wheel's data files, and `pki nginx-config` finds them there."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from pki.ca import CreatedCA
from pki.home import PkiHome
from pki.issue import issue_server

from .conftest import PASSPHRASE

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["pki", "supply", "templates", "nginx", "pyproject.toml", "README.md"]


def _build_and_install(tmp_path: Path) -> tuple[Path, Path]:
    """Build a wheel from a copy of the sources and install it into a new, separate venv (pip's
    ``--prefix`` would first uninstall this checkout's editable install)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    wheels, target = tmp_path / "wheels", tmp_path / "venv"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), "."],
        cwd=src,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("*.whl")
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    )
    # The dependencies (typer, jinja2, cryptography) come from the test run's environment; the
    # line adds that directory without running its .pth files, so this checkout stays out.
    (purelib / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target, purelib


def test_installed_wheel_renders_with_its_own_templates_and_web_app(
    tmp_path: Path, home: PkiHome, ca: CreatedCA
) -> None:
    issue_server(home, "edge.example", passphrase=PASSPHRASE)
    prefix, purelib = _build_and_install(tmp_path)
    python = prefix / "bin" / "python"
    out = tmp_path / "edge.conf"
    # Run from another directory with the new venv's python, so nothing can come from this
    # checkout.
    code = "import pki, pki.cli; print(pki.__file__); pki.cli.main()"
    args = ["--home", str(home.root), "nginx-config", "--server", "edge.example"]
    run = subprocess.run(
        [str(python), "-c", code, *args, "--upstream", "127.0.0.1:9", "--out", str(out)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(str(purelib)), run.stdout
    share = (prefix / "share" / "tactical-edge").resolve()
    config = out.read_text()
    assert f"root {share / 'nginx'};" in config
    assert f"alias {share / 'templates' / 'errors'}/;" in config
    assert (share / "nginx" / "index.html").is_file()
    assert (share / "nginx" / "js" / "pages" / "whoami.js").is_file()
