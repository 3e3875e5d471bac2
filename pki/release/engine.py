"""The Docker CLI calls a bundle needs: save images, load an archive, and what the host has.

The CLI (not the engine's HTTP API) on purpose: it is what operators have, it honours
DOCKER_HOST and the CLI's contexts, and these four calls are all a bundle needs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pki.errors import ReleaseError

_TIMEOUT = 1800  # a full bundle of three images from slow media


@dataclass(frozen=True)
class LocalImage:
    id: str
    refs: tuple[str, ...]
    layers: tuple[str, ...]  # diff IDs, base first


def cli() -> str:
    found = os.environ.get("PKI_DOCKER") or shutil.which("docker")
    if not found:
        raise ReleaseError("docker: Command not found; install Docker Engine (docs/deploy.md).")
    return found


def _run(args: Sequence[str], *, stdin: IO[bytes] | None = None) -> str:
    try:
        done = subprocess.run(
            [cli(), *args],
            stdin=stdin,
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReleaseError(f"docker {args[0]}: No answer within {_TIMEOUT} s.") from None
    if done.returncode:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise ReleaseError(
            f"docker {' '.join(args[:2])}: {detail[-1] if detail else 'failed'} "
            "(is the engine running? `docker info` tells)."
        )
    return done.stdout.decode(errors="replace")


def save(refs: Sequence[str], out: Path) -> None:
    missing = [
        r for r in refs if r not in {t for i in inspect(refs, missing_ok=True) for t in i.refs}
    ]
    if missing:
        raise ReleaseError(f"image: {', '.join(missing)} not on this host; build or load it first.")
    _run(["save", "--output", str(out), *refs])


def load(archive: IO[bytes]) -> str:
    return _run(["load", "--quiet"], stdin=archive)


def inspect(refs: Iterable[str], *, missing_ok: bool = False) -> list[LocalImage]:
    found: list[LocalImage] = []
    for ref in refs:
        try:
            data = json.loads(_run(["image", "inspect", ref]))
        except ReleaseError:
            if missing_ok:
                continue
            raise
        found += [_image(d) for d in data]
    return found


def local_images() -> list[LocalImage]:
    ids = sorted(set(_run(["image", "ls", "--all", "--quiet", "--no-trunc"]).split()))
    if not ids:
        return []
    return [_image(d) for d in json.loads(_run(["image", "inspect", *ids]))]


def _image(data: dict[str, object]) -> LocalImage:
    rootfs = data.get("RootFS")
    layers = rootfs.get("Layers", []) if isinstance(rootfs, dict) else []
    tags = data.get("RepoTags") or []
    return LocalImage(
        str(data["Id"]),
        tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        tuple(str(layer) for layer in layers),
    )
