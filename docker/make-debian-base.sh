#!/usr/bin/env bash
# Make the stack's one base image, debian:trixie-slim, from Debian's packages with mmdebstrap and
# load it into the local Docker engine: what a site with no registry does before it builds
# (docs/deploy.md: Building offline). The result has the same packages as Docker Hub's
# debian:trixie-slim (minbase, documentation and locales left out the same way).
#
# usage: make-debian-base.sh [--mirror URL] [--ca-bundle FILE] [--tag NAME]
#
#   --mirror URL       the Debian archive to build from (default http://deb.debian.org/debian;
#                      a site points this at its own mirror or a local copy of the archive)
#   --ca-bundle FILE   certificate authorities that builds on this base must trust to reach the
#                      package indexes through an intercepting proxy; copied to
#                      /etc/ssl/certs/build-ca-bundle.pem with PIP_CERT naming it. Leave it out
#                      where pip reaches its index directly.
#   --tag NAME         the image name (default debian:trixie-slim, what the Dockerfiles name)
set -euo pipefail

prog="make-debian-base"
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
usage_error() {
    printf '%s: %s\n' "$prog" "$*" >&2
    printf 'usage: make-debian-base.sh [--mirror URL] [--ca-bundle FILE] [--tag NAME]\n' >&2
    exit 2
}

mirror="http://deb.debian.org/debian"
ca_bundle=""
tag="debian:trixie-slim"
while (($#)); do
    case "$1" in
        --mirror | --ca-bundle | --tag)
            (($# >= 2)) && [[ -n "$2" ]] || usage_error "$1 needs a value."
            case "$1" in
                --mirror) mirror="$2" ;;
                --ca-bundle) ca_bundle="$2" ;;
                --tag) tag="$2" ;;
            esac
            shift 2
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *) usage_error "unknown argument $1." ;;
    esac
done
command -v mmdebstrap >/dev/null || die "mmdebstrap: command not found; apt-get install mmdebstrap."
command -v docker >/dev/null || die "docker: command not found; install Docker Engine first."
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine; start dockerd first."
if [[ -n "$ca_bundle" ]]; then
    [[ -f "$ca_bundle" ]] || die "--ca-bundle: no such file: $ca_bundle"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt settings of Docker Hub's Debian images: downloaded packages and apt's caches are deleted as
# soon as they are used, so no layer built on this base keeps them.
cat >"$work/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
printf 'Acquire::Languages "none";\n' >"$work/docker-no-languages"
printf 'Acquire::GzipIndexes "true";\n' >"$work/docker-gzip-indexes"
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$work/docker-autoremove-suggests"
# The hooks are shell commands mmdebstrap runs with $1 as the new root: single quotes on purpose.
# shellcheck disable=SC2016
hooks=(--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin')
for conf in docker-clean docker-no-languages docker-gzip-indexes docker-autoremove-suggests; do
    hooks+=(--customize-hook="install -m 0644 '$work/$conf' \"\$1/etc/apt/apt.conf.d/$conf\"")
done
changes=(--change 'CMD ["bash"]')
if [[ -n "$ca_bundle" ]]; then
    install -m 0644 "$ca_bundle" "$work/build-ca-bundle.pem"
    hooks+=(--customize-hook="install -D -m 0644 '$work/build-ca-bundle.pem' \"\$1/etc/ssl/certs/build-ca-bundle.pem\"")
    changes+=(--change 'ENV PIP_CERT=/etc/ssl/certs/build-ca-bundle.pem')
fi
# The same path filters as Docker Hub's slim images: no manuals, no documentation but the
# copyright files, no translations.
mmdebstrap --variant=minbase --quiet \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    "${hooks[@]}" \
    trixie "$work/rootfs.tar" "$mirror"
docker import "${changes[@]}" "$work/rootfs.tar" "$tag" >/dev/null
printf 'Made %s from %s (%s MB).\n' "$tag" "$mirror" \
    "$(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.1f", $1 / 1e6}')"
