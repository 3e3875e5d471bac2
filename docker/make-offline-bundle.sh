#!/usr/bin/env bash
# Make an offline update bundle: every image of docker/compose.yaml in one `docker save` archive,
# with the compose file, the list of images and SHA-256 sums, packed into one tar for physical media.
# The steps to load it on a host with no registry are in docs/deploy.md and inside the bundle
# (LOAD.md).
#
# usage: make-offline-bundle.sh [-o FILE] [--version TAG] [--registry NAME]
#                               [--images-archive FILE] [IMAGE...]
#
#   -o, --output FILE        the bundle to write (default ./tactical-edge-TAG.tar); FILE.sha256
#                            is written next to it, so the media can be checked before unpacking
#   --version TAG            image tag of supply and proxy (default $TE_VERSION or 0.1.0)
#   --registry NAME          image name prefix (default $TE_REGISTRY or tactical-edge)
#   --images-archive FILE    use this `docker save` archive instead of running `docker save`
#                            (built elsewhere, e.g. by CI); it must hold every image listed
#   IMAGE...                 the images (default: supply, proxy and the PostgreSQL of compose.yaml)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prog="make-offline-bundle"
# Keep in step with docker/compose.yaml (tests/docker/test_bundle.py checks it).
POSTGRES_IMAGE="postgres:17-bookworm"

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
usage_error() {
    printf '%s: %s\n' "$prog" "$*" >&2
    printf 'usage: make-offline-bundle.sh [-o FILE] [--version TAG] [--registry NAME] [--images-archive FILE] [IMAGE...]\n' >&2
    exit 2
}

version="${TE_VERSION:-0.1.0}"
registry="${TE_REGISTRY:-tactical-edge}"
output=""
images_archive=""
images=()
while (($#)); do
    case "$1" in
        -o | --output | --version | --registry | --images-archive)
            (($# >= 2)) && [[ -n "$2" ]] || usage_error "$1 needs a value."
            case "$1" in
                -o | --output) output="$2" ;;
                --version) version="$2" ;;
                --registry) registry="$2" ;;
                --images-archive) images_archive="$2" ;;
            esac
            shift 2
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        -*) usage_error "unknown option $1." ;;
        *)
            images+=("$1")
            shift
            ;;
    esac
done
[[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || usage_error "--version: '$version' is not an image tag."
if ((${#images[@]} == 0)); then
    images=("$registry/supply:$version" "$registry/proxy:$version" "$POSTGRES_IMAGE")
fi
name="tactical-edge-$version"
output="${output:-$PWD/$name.tar}"
out_dir="$(dirname "$output")"
[[ -d "$out_dir" ]] || die "output: directory $out_dir does not exist."
[[ ! -e "$output" ]] || die "output: $output exists; remove it or choose another -o."
if [[ -n "$images_archive" ]]; then
    [[ -f "$images_archive" ]] || die "--images-archive: no such file: $images_archive"
fi

# Build the bundle beside the output and rename it into place at the end: an interrupted run
# (media pulled, disk full) never leaves a file that looks complete.
stage="$(mktemp -d "$out_dir/.$name.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/$name"
mkdir "$bundle"

if [[ -n "$images_archive" ]]; then
    cp "$images_archive" "$bundle/images.tar"
else
    command -v docker >/dev/null || die "docker: command not found (run this where the images were built)."
    docker info >/dev/null 2>&1 ||
        die "cannot reach the Docker engine; run this where the images were built, or pass --images-archive FILE."
    for image in "${images[@]}"; do
        docker image inspect "$image" >/dev/null 2>&1 ||
            die "image $image is not on this host; build or pull it first."
    done
    docker save -o "$bundle/images.tar" "${images[@]}"
fi

# The archive must really hold every image the compose file will ask for: `docker save` writes
# their names into manifest.json (RepoTags).
missing="$(
    tar -xOf "$bundle/images.tar" manifest.json 2>/dev/null |
        python3 -c '
import json, sys
try:
    tags = {t for entry in json.load(sys.stdin) for t in entry.get("RepoTags") or ()}
except ValueError:
    tags = set()
print(" ".join(i for i in sys.argv[1:] if i not in tags and "docker.io/library/" + i not in tags))
' "${images[@]}"
)" || die "images archive: cannot read its manifest.json."
[[ -z "$missing" ]] || die "images archive: it does not hold $missing."

printf '%s\n' "${images[@]}" >"$bundle/images.txt"
cp "$here/compose.yaml" "$here/env.example" "$here/LOAD.md" "$bundle/"
printf 'TE_VERSION=%s\nTE_REGISTRY=%s\n' "$version" "$registry" >"$bundle/version.env"
(cd "$bundle" && sha256sum images.tar images.txt compose.yaml env.example LOAD.md version.env >SHA256SUMS)

tar -C "$stage" -cf "$stage/$name.tar" "$name"
(cd "$stage" && sha256sum "$name.tar") | sed "s|  $name.tar\$|  $(basename "$output")|" >"$stage/$name.tar.sha256"
mv "$stage/$name.tar" "$output"
mv "$stage/$name.tar.sha256" "$output.sha256"
printf 'Wrote %s (%s images) and %s.\n' "$output" "${#images[@]}" "$output.sha256"
