"""The three images, built in the real engine from the shipped Dockerfiles: what each runs and as
whom, its health check and stop signal, that it holds only what it runs, and its size (printed).

hadolint and shellcheck lint the sources; everything else is read off the built images."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.engine import build, docker, image_size, layers, run_in
from tests.docker.helpers import DOCKER, tool

TAG = "image-test"
NAMES = ("supply", "proxy", "postgres")
DOCKERFILES = {name: DOCKER / f"{name}.Dockerfile" for name in NAMES}
SCRIPTS = [
    "supply-entrypoint.sh",
    "proxy-entrypoint.sh",
    "postgres-entrypoint.sh",
    "make-debian-base.sh",
]

pytestmark = pytest.mark.xdist_group("images")


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    return {name: build(name, TAG) for name in NAMES}


def config(ref: str) -> dict[str, Any]:
    out = docker("image", "inspect", "--format", "{{json .Config}}", ref).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def hadolint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            tool("hadolint"),
            "--no-color",
            "--config",
            str(DOCKER / ".hadolint.yaml"),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", NAMES)
def test_dockerfile_is_hadolint_clean(name: str) -> None:
    result = hadolint(DOCKERFILES[name])
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_with_our_config_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install django\nUSER root\nCMD python -m x\n")
    result = hadolint(bad)
    assert result.returncode == 1
    for rule in ("DL3007", "DL3013", "DL3002", "DL3025"):
        assert rule in result.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_is_shellcheck_clean(script: str) -> None:
    result = subprocess.run(
        [tool("shellcheck"), "--severity=style", str(DOCKER / script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("name", NAMES)
def test_no_syntax_directive_so_a_disconnected_site_can_build(name: str) -> None:
    """`# syntax=` makes BuildKit pull a frontend image from a registry before building,
    which a site without a link cannot; the builder's own frontend reads these files."""
    first = DOCKERFILES[name].read_text().splitlines()[0]
    assert not re.match(r"#\s*syntax\s*=", first, re.IGNORECASE), first


@pytest.mark.parametrize("name", NAMES)
def test_every_image_is_built_on_the_one_debian_base(name: str, images: dict[str, str]) -> None:
    base = layers("debian:trixie-slim")
    assert layers(images[name])[: len(base)] == base
    release = run_in(images[name], "cat", "/etc/os-release")
    assert "VERSION_CODENAME=trixie" in release.stdout


EXPECTED_RUNTIME = {
    # name: (user, entrypoint, cmd, stop signal, health check)
    "supply": ("10001:10001", ["supply-entrypoint"], ["serve"], "SIGTERM", ["supply-healthcheck"]),
    "proxy": ("10001:10001", ["proxy-entrypoint"], None, "SIGQUIT", ["edge-healthcheck", "proxy"]),
    "postgres": (
        "999:999",
        ["postgres-entrypoint"],
        None,
        "SIGINT",
        ["pg_isready", "-h", "127.0.0.1", "-q"],
    ),
}


@pytest.mark.parametrize("name", NAMES)
def test_image_runs_unprivileged_with_exec_entrypoint_and_health_check(
    name: str, images: dict[str, str]
) -> None:
    user, entrypoint, cmd, stop_signal, check = EXPECTED_RUNTIME[name]
    c = config(images[name])
    assert (c["User"], c["Entrypoint"], c["Cmd"], c["StopSignal"]) == (
        user,
        entrypoint,
        cmd,
        stop_signal,
    )
    assert c["Healthcheck"]["Test"] == ["CMD", *check]
    # The programs named are on the image's PATH, as the user the image runs as.
    for program in (entrypoint[0], check[0]):
        found = run_in(images[name], "sh", "-c", f"command -v {program}", user=user)
        assert found.returncode == 0, (program, found.stderr)


@pytest.mark.parametrize("name", NAMES)
def test_final_image_holds_no_build_tools_pip_or_tests(name: str, images: dict[str, str]) -> None:
    probe = (
        "for p in gcc cc make pip pip3 git; do command -v $p; done;"
        " python3 -m pip --version 2>/dev/null;"
        " ls -d /src /opt/app/tests /opt/venv/bin/pip* 2>/dev/null;"
        " true"
    )
    found = run_in(images[name], "sh", "-c", probe)
    assert (found.returncode, found.stdout) == (0, "")


def test_supply_image_has_the_service_and_its_static_files(images: dict[str, str]) -> None:
    found = run_in(
        images["supply"],
        "python3",
        "-c",
        "import django, gunicorn, psycopg, rest_framework, supply, pki; print(django.VERSION[:2])",
    )
    assert found.returncode == 0, found.stderr
    static = run_in(images["supply"], "ls", "/opt/supply/static")
    assert {"admin", "rest_framework", "drf_spectacular_sidecar"} <= set(static.stdout.split())


def test_proxy_image_has_pki_and_nginx_but_not_the_service(images: dict[str, str]) -> None:
    pki = run_in(images["proxy"], "pki", "--help")
    assert pki.returncode == 0 and "nginx-config" in pki.stdout
    nginx = run_in(images["proxy"], "nginx", "-v")
    assert nginx.returncode == 0 and "nginx/1." in nginx.stderr
    django = run_in(images["proxy"], "python3", "-c", "import django")
    assert "No module named 'django'" in django.stderr
    static = run_in(images["proxy"], "ls", "/opt/tactical-edge/static", "/opt/tactical-edge/web")
    assert "admin" in static.stdout and "index.html" in static.stdout


def history(ref: str) -> list[tuple[int, str]]:
    """(size, instruction) of each layer, newest first."""
    out = docker("history", "--no-trunc", "--format", "{{json .}}", ref).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return [(_bytes(row["Size"]), row["CreatedBy"]) for row in rows]


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"([\d.]+)\s*([kMG]?B)", size).groups()  # type: ignore[union-attr]
    return int(float(number) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit])


def test_image_sizes_and_where_the_bytes_go(
    images: dict[str, str], record_property: Callable[[str, object], None]
) -> None:
    """Measured and printed (docs/deploy.md says where the bytes go; the seed's Alpine images
    were 26.7 MB for the proxy and 124 MB for the service). The project's own code is the last
    layer and small, so a code-only update carries little (tests/docker/test_offline_update.py)."""
    base = image_size("debian:trixie-slim")
    record_property("figure", f"debian:trixie-slim (made with mmdebstrap): {base / 1e6:.1f} MB")
    for name, ref in images.items():
        layers_ = [(size, by) for size, by in history(ref) if size]
        parts = ", ".join(f"{size / 1e6:.1f} MB {_what(by)}" for size, by in layers_[:-1])
        record_property("figure", f"{ref}: {image_size(ref) / 1e6:.1f} MB = base + {parts}")
        if name != "postgres":
            newest_size, newest = layers_[0]
            assert "/opt/app" in newest and newest_size < 5e6, (newest_size, newest)


def _what(created_by: str) -> str:
    if "apt-get" in created_by:
        return "Debian packages"
    found = re.search(r"COPY (?:--\S+ )*(\S+) ", created_by)
    return found.group(1) if found else created_by.split()[0]
