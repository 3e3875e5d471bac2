# PostgreSQL 17 for the one-host stack, from Debian 13's packages on the same base as the other
# images (so a site builds all three from one Debian mirror; docs/deploy.md). Build from the
# repository root:
#   docker build -f docker/postgres.Dockerfile -t tactical-edge/postgres:17 .
# It honours the environment of the official image that compose.yaml documents: POSTGRES_USER,
# POSTGRES_DB, POSTGRES_PASSWORD_FILE and PGDATA, on first start (initdb) and on every later one.
FROM debian:trixie-slim
# A fixed uid (999, as in the official image) made before the package would pick one, so that the
# data volume's owner is the same number in every build. postgresql-common would create a cluster
# at install; the entrypoint makes the one in PGDATA.
RUN groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/sh postgres \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common \
    && sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
    && apt-get install -y --no-install-recommends postgresql-17 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
    && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY --chmod=0755 docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/17/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER 999:999
EXPOSE 5432
# SIGINT is PostgreSQL's "fast" shutdown: it rolls back open transactions and stops at once,
# where SIGTERM ("smart") would wait for every client to disconnect.
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=12 \
    CMD ["pg_isready", "-h", "127.0.0.1", "-q"]
ENTRYPOINT ["postgres-entrypoint"]
