"""The Dockerfiles: hadolint-clean, and the image policy of issue 6 (no engine needed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.docker.dockerfile import exec_form, parse
from tests.docker.helpers import DOCKER, ROOT, tool

DOCKERFILES = {
    "supply": DOCKER / "supply.Dockerfile",
    "proxy": DOCKER / "proxy.Dockerfile",
}
SCRIPTS = ["supply-entrypoint.sh", "proxy-entrypoint.sh", "make-offline-bundle.sh"]


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


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
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


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_image_is_multi_stage_non_root_with_health_check(name: str) -> None:
    dockerfile = parse(DOCKERFILES[name])
    assert len(dockerfile.stages) >= 2
    final = dockerfile.final
    users = final.all("USER")
    assert users, "the final stage sets no USER"
    assert re.fullmatch(r"\$\{APP_UID\}:\$\{APP_GID\}|\d+:\d+", users[-1])
    uid = users[-1].split(":")[0]
    if uid.startswith("$"):
        uid = next(a.split("=")[1] for a in final.all("ARG") if a.startswith("APP_UID="))
    assert int(uid) >= 1000
    (healthcheck,) = final.all("HEALTHCHECK")
    check = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert check is not None
    (entrypoint,) = final.all("ENTRYPOINT")
    program = exec_form(entrypoint)
    assert program is not None, "ENTRYPOINT must be exec form (signals reach PID 1)"
    # Both programs are installed by this stage under the names the instructions call.
    installed = {args.split()[-1] for args in final.all("COPY")}
    assert f"/usr/local/bin/{check[0]}" in installed
    assert f"/usr/local/bin/{program[0]}" in installed


def test_base_images_follow_maintained_release_lines() -> None:
    supply = parse(DOCKERFILES["supply"])
    proxy = parse(DOCKERFILES["proxy"])
    assert {supply.resolve(s.base) for s in supply.stages if s.base.startswith("$")} == {
        "python:3.11-slim-trixie"
    }
    proxy_bases = {proxy.resolve(s.base) for s in proxy.stages if s.base.startswith("$")}
    assert len(proxy_bases) == 1
    # An even minor is nginx's stable line; Debian 13 is the release both images share.
    assert re.fullmatch(r"nginxinc/nginx-unprivileged:1\.\d*[02468]-trixie", proxy_bases.pop())


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_static_files_are_collected_at_build_not_at_start(name: str) -> None:
    dockerfile = parse(DOCKERFILES[name])
    build_runs = [run for stage in dockerfile.stages[:-1] for run in stage.all("RUN")]
    assert any("collectstatic --noinput" in run for run in build_runs)
    entrypoint = (DOCKER / f"{name}-entrypoint.sh").read_text()
    assert "collectstatic" not in entrypoint


def test_supply_runs_gunicorn_through_exec() -> None:
    final = parse(DOCKERFILES["supply"]).final
    assert exec_form(final.all("ENTRYPOINT")[0]) == ["supply-entrypoint"]
    assert exec_form(final.all("CMD")[0]) == ["serve"]
    script = (DOCKER / "supply-entrypoint.sh").read_text()
    assert 'exec supply serve --bind "${SUPPLY_BIND:-0.0.0.0:8000}" "$@"' in script


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_copied_source_exists_and_is_in_the_build_context(name: str) -> None:
    """What a build would fail on first, checked without an engine: COPY sources exist in the
    repository and the Dockerfile's own .dockerignore lets them through."""
    dockerfile = parse(DOCKERFILES[name])
    allowed = [
        line[1:].rstrip("/")
        for line in (DOCKER / f"{name}.Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    sources = []
    for stage in dockerfile.stages:
        for args in stage.all("COPY"):
            words = [w for w in args.split() if not w.startswith("--")]
            if any(w.startswith("--from=") for w in args.split()):
                continue
            sources.extend(words[:-1])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert any(source == a or source.startswith(a + "/") for a in allowed), source


def test_install_sets_service_in_supply_pki_alone_in_proxy() -> None:
    """The supply image installs the `service` extra; the proxy keeps a venv of `pip install .`
    (pki only: tests/docker/test_entrypoints.py proves it renders the nginx config) and uses the
    service's dependencies only in a build-stage venv for collectstatic."""
    supply_runs = " ".join(r for s in parse(DOCKERFILES["supply"]).stages for r in s.all("RUN"))
    assert "/opt/venv/bin/pip install --no-cache-dir '.[service]'" in supply_runs
    proxy = parse(DOCKERFILES["proxy"])
    proxy_runs = " ".join(r for s in proxy.stages[:-1] for r in s.all("RUN"))
    assert "/opt/venv/bin/pip install --no-cache-dir . " in proxy_runs
    assert "/opt/build-venv/bin/pip install --no-cache-dir '.[service]'" in proxy_runs
    assert "/opt/build-venv/bin/supply collectstatic" in proxy_runs
    copied = [c for c in proxy.final.all("COPY") if c.startswith("--from=")]
    assert "--from=build /opt/venv /opt/venv" in copied
    assert not [c for c in copied if "build-venv" in c]


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_no_syntax_directive_so_a_disconnected_site_can_build(name: str) -> None:
    """`# syntax=` makes BuildKit pull a frontend image from a registry before building,
    which a site without a link cannot; the builder's own frontend reads these files."""
    first = DOCKERFILES[name].read_text().splitlines()[0]
    assert not re.match(r"#\s*syntax\s*=", first, re.IGNORECASE), first
