#!/bin/sh
# Entrypoint of the PostgreSQL image: on first start (an empty $PGDATA) make the cluster with the
# superuser $POSTGRES_USER, whose password is the first line of $POSTGRES_PASSWORD_FILE, and the
# database $POSTGRES_DB; on every start, exec postgres in the foreground (PID 1 gets the stop signal).
# The cluster is made before it listens on TCP, so the health check (TCP) passes only once the
# real server is up.
set -eu

die() {
    printf 'postgres-entrypoint: %s\n' "$*" >&2
    exit 2
}

: "${PGDATA:?}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD_FILE:-}" ] || die "POSTGRES_PASSWORD_FILE is not set: name a file with the database password."
    [ -r "$POSTGRES_PASSWORD_FILE" ] || die "POSTGRES_PASSWORD_FILE: cannot read $POSTGRES_PASSWORD_FILE (uid $(id -u))."
    password=
    IFS= read -r password <"$POSTGRES_PASSWORD_FILE" || [ -n "$password" ] || die "POSTGRES_PASSWORD_FILE: $POSTGRES_PASSWORD_FILE is empty."
    [ -n "$password" ] || die "POSTGRES_PASSWORD_FILE: $POSTGRES_PASSWORD_FILE is empty."
    pwfile="$(mktemp)"
    printf '%s\n' "$password" >"$pwfile"
    unset password
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" \
        --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    # Other containers reach it over the compose network, always with the password.
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    # The database, made on the unix socket only, before the server listens on TCP.
    postgres --single -D "$PGDATA" -c listen_addresses='' postgres >/dev/null <<SQL
CREATE DATABASE "$db" OWNER "$user";
SQL
    printf 'postgres-entrypoint: made the cluster in %s (user %s, database %s).\n' "$PGDATA" "$user" "$db" >&2
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
