#!/bin/sh
# Entrypoint of the proxy image: render nginx.conf from the mounted PKI home with the same template
# and code as `pki nginx-config`, then exec nginx in the foreground (nginx is PID 1 and gets the
# stop signal itself). nginx starts whether or not the service is up: the upstream is an IP address
# or a unix socket, so nothing is resolved at start, and a down service answers 503 with a page.
#
# Environment (defaults fit the image; the tests point them at temporary directories):
#   PROXY_SERVER_NAME  required: the server certificate's name (pki issue-server NAME)
#   PROXY_UPSTREAM     HOST:PORT or unix:/path (default unix:/run/supply/gunicorn.sock)
#   PROXY_LISTEN       [HOST:]PORT for TLS (default 8443: unprivileged)
#   PROXY_RESOLVER     DNS resolver, only for a named upstream resolved per request
#   PROXY_RUN_DIR      rendered config, pid and temp files (default /tmp/nginx)
#   PROXY_SHARE        templates/, web/ and static/ baked into the image (default /opt/tactical-edge)
#   PKI_HOME           the PKI home (read by pki; the image sets /pki)
set -eu

die() {
    printf 'proxy-entrypoint: %s\n' "$*" >&2
    exit 2
}

[ -n "${PROXY_SERVER_NAME:-}" ] ||
    die "PROXY_SERVER_NAME is not set: the name of a server certificate in the PKI home."
upstream="${PROXY_UPSTREAM:-unix:/run/supply/gunicorn.sock}"
listen="${PROXY_LISTEN:-8443}"
run_dir="${PROXY_RUN_DIR:-/tmp/nginx}"
share="${PROXY_SHARE:-/opt/tactical-edge}"

# pki makes the proxy secret on first use, but the containers mount the PKI home read-only: say
# what to do on the host instead of failing on a temporary file's name.
if [ -n "${PKI_HOME:-}" ] && [ ! -e "$PKI_HOME/proxy-secret" ] && [ ! -w "$PKI_HOME" ]; then
    die "no proxy secret in $PKI_HOME, and it is read-only here; make it once on the host (docs/deploy.md: First installation; LOAD.md step 3)."
fi

# nginx.conf holds the proxy secret; pki writes it 0600. The directory stays traversable so that
# worker processes of a root-run nginx (another uid) can use their temp directories in it.
mkdir -p "$run_dir"
# Logs go to the container's output streams (docker logs, awslogs), not into a file that grows.
ln -sf /dev/stdout "$run_dir/access.log"
ln -sf /dev/stderr "$run_dir/error.log"

pki nginx-config \
    --server "$PROXY_SERVER_NAME" \
    --upstream "$upstream" \
    --listen "$listen" \
    --templates "$share/templates" \
    --web-root "$share/web" \
    --static-root "$share/static" \
    --runtime-dir "$run_dir" \
    ${PROXY_RESOLVER:+--resolver "$PROXY_RESOLVER"} \
    --out "$run_dir/nginx.conf"

exec nginx -p "$run_dir" -c "$run_dir/nginx.conf" -e stderr -g 'daemon off;'
