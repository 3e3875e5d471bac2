"""Offline update bundles: what `docker save` writes, cut down to the layers a site lacks, with a
manifest signed by a release certificate, verified completely before anything is loaded.

A bundle is one uncompressed tar (media are read sequentially; layers are mostly compressed
already)::

    bundle.json   the manifest: release, kind (full/delta), images with their layer digests,
                  and the SHA-256 and size of every other file of the bundle
    bundle.sig    the release key's signature over bundle.json's exact bytes
    signer.pem    the release certificate and any CA between it and the fleet root
    images/...    `docker save` output: manifest.json, each image's config, and the layers
                  this bundle carries (a delta leaves out those the site manifest lists)
    compose/...   compose.yaml, env.example, LOAD.md and version.env of the release

Trust comes only from the signature: the manifest names every file's digest, each layer file
must also hash to the diff ID its image's config names, and each config to its image ID. A layer
left out must be on the host already (by its chain ID, the digest of the layer and all below it,
which is what `docker load` looks up before it opens a layer file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography import x509

from pki.errors import ReleaseError
from pki.release import engine
from pki.release.signer import Signer
from pki.release.trust import VerifiedSigner, verify

FORMAT = "tactical-edge-bundle"
SITE_FORMAT = "tactical-edge-site-manifest"
VERSION = 1
SIGNED = ("bundle.json", "bundle.sig", "signer.pem")
COMPOSE_FILES = ("compose.yaml", "env.example", "LOAD.md")
_MAX_SIGNED_PART = 4 << 20  # bundle.json of thousands of layers is still far below this
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Image:
    ref: str
    id: str  # sha256:<digest of its config>
    config: str  # path of the config in the docker save archive
    layers: tuple[str, ...]  # diff IDs, base first
    layer_files: tuple[str, ...]  # their paths in the archive, in the same order

    def chain_ids(self) -> list[str]:
        return chain_ids(self.layers)


@dataclass(frozen=True)
class MadeBundle:
    path: Path
    kind: str
    size: int
    layers_carried: int
    layers_total: int


@dataclass(frozen=True)
class VerifiedBundle:
    directory: Path  # the bundle's files, unpacked and checked, in a private directory
    release: str
    kind: str
    created: str
    images: tuple[Image, ...]
    signer: VerifiedSigner
    files: dict[str, dict[str, Any]]


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ID of each layer (the OCI image spec): its own digest for the base, else the
    digest of "<chain ID below> <diff ID>"."""
    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            text = f"{chains[-1]} {diff_id}".encode()
            chains.append("sha256:" + hashlib.sha256(text).hexdigest())
    return chains


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- the site manifest: what a host has ---


def site_manifest() -> dict[str, Any]:
    """Every image of this host's engine with its layers (`pki release site-manifest`)."""
    return {
        "format": SITE_FORMAT,
        "version": VERSION,
        "host": socket.gethostname(),
        "created": _now(),
        "images": [
            {"id": i.id, "refs": list(i.refs), "layers": list(i.layers)}
            for i in engine.local_images()
        ],
    }


def _site_chains(have: dict[str, Any], source: str) -> set[str]:
    if not isinstance(have, dict) or have.get("format") != SITE_FORMAT:
        raise ReleaseError(f"have: {source} is not a site manifest (`pki release site-manifest`).")
    if have.get("version") != VERSION:
        raise ReleaseError(
            f"have: {source} is site manifest version {have.get('version')!r}; "
            f"this pki reads version {VERSION}."
        )
    chains: set[str] = set()
    for image in have.get("images") or []:
        layers = image.get("layers") if isinstance(image, dict) else None
        if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
            raise ReleaseError(f"have: {source} has an image without a list of layers.")
        chains.update(chain_ids(layers))
    return chains


def read_site_manifest(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except OSError as exc:
        raise ReleaseError(f"have: Cannot read {path} ({exc.strerror}).") from None
    except ValueError:
        raise ReleaseError(
            f"have: {path} is not JSON; write it with `pki release site-manifest`."
        ) from None
    _site_chains(data, str(path))
    return data


# --- making a bundle ---


def _digest_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


def _read_saved(root: Path, refs: Sequence[str]) -> list[Image]:
    """The images of an unpacked `docker save` archive, in the order of `refs`."""
    entries = json.loads((root / "manifest.json").read_bytes())
    images: list[Image] = []
    for ref in refs:
        entry = next((e for e in entries if ref in (e.get("RepoTags") or [])), None)
        if entry is None:
            raise ReleaseError(f"image: `docker save` wrote no {ref}; is it a tag on this host?")
        config_bytes = (root / entry["Config"]).read_bytes()
        config = json.loads(config_bytes)
        diff_ids = tuple(config["rootfs"]["diff_ids"])
        files = tuple(entry["Layers"])
        if len(diff_ids) != len(files):
            raise ReleaseError(f"image: {ref} has {len(diff_ids)} layers but {len(files)} files.")
        image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        images.append(Image(ref, image_id, entry["Config"], diff_ids, files))
    return images


def make_bundle(
    refs: Sequence[str],
    out: Path,
    signer: Signer,
    *,
    release: str,
    compose_dir: Path,
    have: dict[str, Any] | None = None,
) -> MadeBundle:
    """Write a full bundle of `refs` (or, with `have`, a delta of the layers it lacks) to `out`."""
    if out.exists():
        raise ReleaseError(f"out: {out} exists; remove it or choose another --out.")
    compose = {name: compose_dir / name for name in COMPOSE_FILES}
    for name, path in compose.items():
        if not path.is_file():
            raise ReleaseError(f"compose: No {name} in {compose_dir}; pass --compose-dir docker.")
    site = _site_chains(have, "the site manifest") if have is not None else set()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".bundle-") as tmp:
        work = Path(tmp)
        saved = work / "saved"
        saved.mkdir()
        archive = work / "images.tar"
        engine.save(refs, archive)
        with tarfile.open(archive) as tar:
            tar.extractall(saved, filter="data")
        archive.unlink()
        images = _read_saved(saved, refs)
        carried: dict[str, Path] = {}
        total: set[str] = set()
        for image in images:
            for layer_file, chain in zip(image.layer_files, image.chain_ids(), strict=True):
                total.add(layer_file)
                if chain not in site:
                    carried[layer_file] = saved / layer_file
        parts: dict[str, Path] = {"images/manifest.json": saved / "manifest.json"}
        parts |= {f"images/{i.config}": saved / i.config for i in images}
        parts |= {f"images/{p}": f for p, f in sorted(carried.items())}
        version_env = work / "version.env"
        repo = refs[0].rpartition(":")[0]
        version_env.write_text(
            f"TE_VERSION={release}\nTE_REGISTRY={repo.rpartition('/')[0] or repo}\n"
        )
        parts |= {f"compose/{n}": p for n, p in compose.items()}
        parts["compose/version.env"] = version_env
        files = {}
        for name, path in parts.items():
            digest, size = _digest_file(path)
            files[name] = {"sha256": digest, "size": size}
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "release": release,
            "kind": "delta" if have is not None else "full",
            "created": _now(),
            "against": None
            if have is None
            else {"host": have.get("host"), "created": have.get("created")},
            "images": [
                {
                    "ref": i.ref,
                    "id": i.id,
                    "config": i.config,
                    "layers": list(i.layers),
                    "layer_files": list(i.layer_files),
                }
                for i in images
            ],
            "files": files,
        }
        body = canonical(manifest)
        partial = work / "bundle.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, "bundle.json", body)
            _add_bytes(tar, "bundle.sig", signer.sign(body))
            _add_bytes(tar, "signer.pem", signer.chain_pem)
            for name, path in parts.items():
                tar.add(path, arcname=name, recursive=False, filter=_plain)
        os.replace(partial, out)  # only a complete bundle ever has the name
    return MadeBundle(out, str(manifest["kind"]), out.stat().st_size, len(carried), len(total))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


# --- verifying a bundle ---


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name != str(path):
        raise ReleaseError(f"bundle: Member {name!r} is not a plain relative path; refused.")
    return name


def _signed_part(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    if not info.isfile() or info.size > _MAX_SIGNED_PART:
        raise ReleaseError(f"bundle: {info.name} is not a small regular file; not a bundle.")
    fh = tar.extractfile(info)
    assert fh is not None
    return fh.read()


def _manifest(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ReleaseError("bundle: bundle.json is not JSON.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReleaseError("bundle: bundle.json is not a tactical-edge bundle manifest.")
    if data.get("version") != VERSION:
        raise ReleaseError(
            f"bundle: Format version {data.get('version')!r}; this pki reads {VERSION}."
        )
    if not isinstance(data.get("files"), dict) or not isinstance(data.get("images"), list):
        raise ReleaseError("bundle: bundle.json lacks its files or images.")
    return data


@contextmanager
def verified(
    path: Path, roots: list[x509.Certificate], *, workdir: Path | None = None
) -> Iterator[VerifiedBundle]:
    """Unpack `path` into a private directory and check all of it: the signature against
    `roots`, every file's digest and size, every layer against its image, and that each layer
    left out is on this host. Yields the checked bundle; the directory is removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="pki-bundle-", dir=workdir)
    try:
        yield _verify(path, roots, Path(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verify(path: Path, roots: list[x509.Certificate], work: Path) -> VerifiedBundle:
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise ReleaseError(f"bundle: Cannot read {path} as a bundle ({exc}).") from None
    with tar:
        signed: dict[str, bytes] = {}
        signer: VerifiedSigner | None = None
        seen: dict[str, tuple[str, int]] = {}
        manifest: dict[str, Any] | None = None
        for info in tar:
            name = _safe_name(info.name)
            if name in SIGNED:
                signed[name] = _signed_part(tar, info)
                if len(signed) == len(SIGNED):
                    signer = verify(
                        signed["bundle.json"], signed["bundle.sig"], signed["signer.pem"], roots
                    )
                    manifest = _manifest(signed["bundle.json"])
                continue
            if manifest is None:
                raise ReleaseError(
                    "bundle: The signed manifest does not come first; not a bundle made by pki."
                )
            expected = manifest["files"].get(name)
            if expected is None or not info.isfile():
                raise ReleaseError(f"bundle: {name} is not in the signed manifest; refused.")
            if name in seen:
                raise ReleaseError(f"bundle: {name} appears twice; refused.")
            seen[name] = _unpack(tar, info, work / name)
            if seen[name] != (expected.get("sha256"), expected.get("size")):
                raise ReleaseError(
                    f"bundle: {name} does not match the signed manifest (damaged or altered); "
                    "nothing was loaded."
                )
    if manifest is None or signer is None:
        raise ReleaseError(
            f"bundle: {path} has no signed manifest (bundle.json, bundle.sig, signer.pem)."
        )
    missing = sorted(set(manifest["files"]) - set(seen))
    if missing:
        raise ReleaseError(
            f"bundle: {missing[0]} is missing (the copy is incomplete); nothing was loaded."
        )
    images = _check_images(manifest, work)
    return VerifiedBundle(
        work,
        str(manifest.get("release")),
        str(manifest.get("kind")),
        str(manifest.get("created")),
        images,
        signer,
        manifest["files"],
    )


def _unpack(tar: tarfile.TarFile, info: tarfile.TarInfo, dest: Path) -> tuple[str, int]:
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = tar.extractfile(info)
    assert source is not None
    digest, size = hashlib.sha256(), 0
    with dest.open("xb") as fh:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fh.write(chunk)
    return "sha256:" + digest.hexdigest(), size


def _check_images(manifest: dict[str, Any], work: Path) -> tuple[Image, ...]:
    files: dict[str, Any] = manifest["files"]
    images: list[Image] = []
    for entry in manifest["images"]:
        image = Image(
            entry["ref"],
            entry["id"],
            entry["config"],
            tuple(entry["layers"]),
            tuple(entry["layer_files"]),
        )
        config_bytes = (work / "images" / image.config).read_bytes()
        if "sha256:" + hashlib.sha256(config_bytes).hexdigest() != image.id:
            raise ReleaseError(f"bundle: The config of {image.ref} is not image {image.id}.")
        if tuple(json.loads(config_bytes)["rootfs"]["diff_ids"]) != image.layers:
            raise ReleaseError(f"bundle: The layers of {image.ref} differ from its config.")
        for diff_id, layer_file in zip(image.layers, image.layer_files, strict=True):
            carried = files.get(f"images/{layer_file}")
            if carried is not None and carried["sha256"] != diff_id:
                raise ReleaseError(f"bundle: Layer {layer_file} of {image.ref} is not {diff_id}.")
        images.append(image)
    saved = json.loads((work / "images" / "manifest.json").read_bytes())
    for image in images:
        entry = next((e for e in saved if image.ref in (e.get("RepoTags") or [])), None)
        if (
            entry is None
            or entry.get("Config") != image.config
            or tuple(entry.get("Layers") or ()) != image.layer_files
        ):
            raise ReleaseError(
                f"bundle: images/manifest.json does not describe {image.ref} as signed."
            )
    return tuple(images)


def missing_layers(bundle: VerifiedBundle) -> list[tuple[str, str]]:
    """(image, diff ID) of each layer the bundle leaves out and this host does not have."""
    here = {c for i in engine.local_images() for c in chain_ids(i.layers)}
    missing = []
    for image in bundle.images:
        for diff_id, layer_file, chain in zip(
            image.layers, image.layer_files, image.chain_ids(), strict=True
        ):
            if f"images/{layer_file}" not in bundle.files and chain not in here:
                missing.append((image.ref, diff_id))
    return missing


def load(bundle: VerifiedBundle, *, compose_out: Path | None = None) -> list[str]:
    """Load a verified bundle's images into this host's engine (after checking that every layer
    it leaves out is here), and copy its compose files to `compose_out`. Returns the refs."""
    missing = missing_layers(bundle)
    if missing:
        ref, diff_id = missing[0]
        raise ReleaseError(
            f"bundle: Layer {diff_id[:19]}... of {ref} is neither in this delta nor on this host "
            f"({len(missing)} missing); ask for a full bundle, or a delta made against this host's "
            "`pki release site-manifest`. Nothing was loaded."
        )
    images_dir = bundle.directory / "images"
    # The checked files, streamed to `docker load` as the archive `docker save` wrote (less the
    # layers left out, which the engine finds by chain ID before it would open their files).
    with tempfile.TemporaryFile(dir=bundle.directory) as errors:
        proc = subprocess.Popen(
            [engine.cli(), "load", "--quiet"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        assert proc.stdin is not None
        try:
            with tarfile.open(fileobj=proc.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for path in sorted(images_dir.rglob("*")):
                    if path.is_file():
                        tar.add(path, arcname=str(path.relative_to(images_dir)), filter=_plain)
        except BrokenPipeError:
            pass  # the engine stopped reading: its own message says why
        finally:
            proc.stdin.close()
        code = proc.wait(timeout=1800)
        errors.seek(0)
        detail = errors.read().decode(errors="replace").strip().splitlines()
    if code:
        raise ReleaseError(f"docker load: {detail[-1] if detail else 'failed'}.")
    loaded = {
        i.id: set(i.refs) for i in engine.inspect([i.ref for i in bundle.images], missing_ok=True)
    }
    for image in bundle.images:
        if image.ref not in loaded.get(image.id, set()):
            raise ReleaseError(f"docker load: {image.ref} is not image {image.id} after loading.")
    if compose_out is not None:
        compose_out.mkdir(parents=True, exist_ok=True)
        for name in (*COMPOSE_FILES, "version.env"):
            shutil.copyfile(bundle.directory / "compose" / name, compose_out / name)
    return [i.ref for i in bundle.images]
