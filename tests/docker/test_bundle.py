"""docker/make-offline-bundle.sh without a Docker engine: argument handling, the image archive
check, the SHA-256 sums and the layout operators load from (docs/deploy.md). `docker save` itself
is never faked: its place is taken by --images-archive, a real option of the script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.docker.helpers import DOCKER, clean_env

SCRIPT = DOCKER / "make-offline-bundle.sh"
USAGE = (
    "usage: make-offline-bundle.sh [-o FILE] [--version TAG] [--registry NAME] "
    "[--images-archive FILE] [IMAGE...]\n"
)
DEFAULT_IMAGES = ["tactical-edge/supply:0.1.0", "tactical-edge/proxy:0.1.0", "postgres:17-bookworm"]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(),
        timeout=60,
    )


def fake_save_archive(path: Path, tags: list[str]) -> Path:
    """A tar laid out like `docker save` output as far as the script reads it (manifest.json)."""
    manifest = path.parent / "manifest.json"
    manifest.write_text(json.dumps([{"Config": "x.json", "RepoTags": tags, "Layers": []}]))
    layer = path.parent / "layer.tar"
    layer.write_bytes(b"not really a layer\n" * 100)
    with tarfile.open(path, "w") as tar:
        tar.add(manifest, arcname="manifest.json")
        tar.add(layer, arcname="abc/layer.tar")
    return path


def sha256sum_check(sums: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sha256sum", "-c", sums], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--gzip", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "make-offline-bundle: unknown option --gzip.\n" + USAGE


def test_option_without_value_is_a_usage_error(tmp_path: Path) -> None:
    result = run("-o", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "make-offline-bundle: -o needs a value.\n" + USAGE


def test_version_must_be_an_image_tag(tmp_path: Path) -> None:
    result = run("--version", "1.0/evil", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "make-offline-bundle: --version: '1.0/evil' is not an image tag.\n"
    )


def test_help_prints_the_usage(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: make-offline-bundle.sh [-o FILE]" in result.stdout
    assert "--images-archive FILE" in result.stdout


def test_missing_images_archive_is_reported(tmp_path: Path) -> None:
    result = run("--images-archive", tmp_path / "nope.tar", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"make-offline-bundle: --images-archive: no such file: {tmp_path / 'nope.tar'}\n"
    )


def test_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "tactical-edge-0.1.0.tar").write_text("precious")
    archive = fake_save_archive(tmp_path / "images.tar", DEFAULT_IMAGES)
    result = run("--images-archive", archive, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"make-offline-bundle: output: {tmp_path / 'tactical-edge-0.1.0.tar'} exists; "
        "remove it or choose another -o.\n"
    )
    assert (tmp_path / "tactical-edge-0.1.0.tar").read_text() == "precious"


def test_without_an_engine_it_says_so_and_writes_nothing(tmp_path: Path) -> None:
    docker = shutil.which("docker", path=clean_env()["PATH"])
    if docker is None:
        expected = (
            "make-offline-bundle: docker: command not found "
            "(run this where the images were built).\n"
        )
    else:
        probe = subprocess.run([docker, "info"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            pytest.skip("a Docker engine answers here; this test covers hosts without one")
        expected = (
            "make-offline-bundle: cannot reach the Docker engine; run this where the images "
            "were built, or pass --images-archive FILE.\n"
        )
    result = run(cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, expected)
    assert list(tmp_path.iterdir()) == []


def test_archive_lacking_an_image_is_refused(tmp_path: Path) -> None:
    archive = fake_save_archive(tmp_path / "images.tar", DEFAULT_IMAGES[:2])
    out = tmp_path / "out"
    out.mkdir()
    result = run("--images-archive", archive, "-o", out / "b.tar", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "make-offline-bundle: images archive: it does not hold postgres:17-bookworm.\n"
    )
    assert list(out.iterdir()) == []


def test_bundle_holds_images_compose_and_sums_that_verify(tmp_path: Path) -> None:
    archive = fake_save_archive(tmp_path / "images.tar", DEFAULT_IMAGES)
    result = run("--images-archive", archive, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    bundle = tmp_path / "tactical-edge-0.1.0.tar"
    assert result.stdout == (f"Wrote {bundle} (3 images) and {bundle}.sha256.\n")

    # The documented load steps, up to `docker load`.
    outer = sha256sum_check(bundle.name + ".sha256", tmp_path)
    assert outer.stdout == "tactical-edge-0.1.0.tar: OK\n"
    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path / "media", filter="data")
    unpacked = tmp_path / "media" / "tactical-edge-0.1.0"
    assert sorted(p.name for p in unpacked.iterdir()) == [
        "LOAD.md",
        "SHA256SUMS",
        "compose.yaml",
        "env.example",
        "images.tar",
        "images.txt",
        "version.env",
    ]
    inner = sha256sum_check("SHA256SUMS", unpacked)
    assert inner.returncode == 0
    assert inner.stdout.count(": OK\n") == 6
    assert (unpacked / "images.tar").read_bytes() == archive.read_bytes()
    assert (unpacked / "images.txt").read_text().splitlines() == DEFAULT_IMAGES
    assert (unpacked / "compose.yaml").read_bytes() == (DOCKER / "compose.yaml").read_bytes()
    assert (unpacked / "version.env").read_text() == "TE_VERSION=0.1.0\nTE_REGISTRY=tactical-edge\n"

    # A damaged or altered copy fails the check.
    with (unpacked / "compose.yaml").open("a") as fh:
        fh.write("# tampered\n")
    tampered = sha256sum_check("SHA256SUMS", unpacked)
    assert tampered.returncode == 1
    assert "compose.yaml: FAILED\n" in tampered.stdout


def test_version_and_registry_name_the_images(tmp_path: Path) -> None:
    images = ["reg.local/te/supply:2.0", "reg.local/te/proxy:2.0", "postgres:17-bookworm"]
    archive = fake_save_archive(tmp_path / "images.tar", images)
    result = run(
        "--images-archive", archive, "--version", "2.0", "--registry", "reg.local/te", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    with tarfile.open(tmp_path / "tactical-edge-2.0.tar") as tar:
        member = tar.extractfile("tactical-edge-2.0/images.txt")
        assert member is not None
        assert member.read().decode().splitlines() == images


def test_default_images_are_those_of_the_compose_file() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    defaults = {
        re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", svc["image"]) for svc in compose["services"].values()
    }
    assert defaults == set(DEFAULT_IMAGES)
    script = SCRIPT.read_text()
    assert 'POSTGRES_IMAGE="postgres:17-bookworm"' in script
