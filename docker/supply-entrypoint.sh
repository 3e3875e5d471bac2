#!/bin/sh
# Entrypoint of the supply image.
#
#   supply-entrypoint [serve [ARGS...]]   gunicorn on $SUPPLY_BIND (the default command)
#   supply-entrypoint migrate             apply migrations once (the compose `migrate` service)
#   supply-entrypoint CMD [ARGS...]       anything else in the image: `supply identities`, `pki list`
#
# Secrets come from files, never from the command line: *_FILE variables name a file whose first
# line is the secret (the pki contract for secret files), and only the environment of the process
# that needs it ever holds the value.
#   SUPPLY_SECRET_KEY_FILE   -> SUPPLY_SECRET_KEY (Django)
#   SUPPLY_DB_PASSWORD_FILE  -> PGPASSWORD (libpq uses it when DATABASE_URL carries no password)
#
# Every path ends in `exec`, so the command replaces this shell: gunicorn's master is PID 1 in the
# container and receives SIGTERM itself (graceful stop, fast when idle).
set -eu

die() {
    printf 'supply-entrypoint: %s\n' "$*" >&2
    exit 2
}

# load_secret VAR FILE: the first line of FILE, without its newline, into the exported VAR.
load_secret() {
    [ -f "$2" ] || die "$1: no such file: $2"
    [ -r "$2" ] || die "$1: cannot read $2 (owner and mode must let uid $(id -u) read it)"
    secret=
    IFS= read -r secret <"$2" || [ -n "$secret" ] || die "$1: $2 is empty"
    [ -n "$secret" ] || die "$1: $2 is empty"
    export "$1=$secret"
    unset secret
}

if [ -n "${SUPPLY_SECRET_KEY_FILE:-}" ]; then
    load_secret SUPPLY_SECRET_KEY "$SUPPLY_SECRET_KEY_FILE"
fi
if [ -n "${SUPPLY_DB_PASSWORD_FILE:-}" ]; then
    load_secret PGPASSWORD "$SUPPLY_DB_PASSWORD_FILE"
fi

command="${1:-serve}"
[ "$#" -eq 0 ] || shift
case "$command" in
    serve)
        exec supply serve --bind "${SUPPLY_BIND:-0.0.0.0:8000}" "$@"
        ;;
    migrate)
        exec supply migrate --noinput "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
