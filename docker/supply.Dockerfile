# The supply service: Django + DRF under gunicorn. Build from the repository root:
#   docker build -f docker/supply.Dockerfile -t tactical-edge/supply:0.1.0 .
# One base for every image of the stack: Debian 13 (trixie), whose Python (3.13), nginx and
# PostgreSQL all come from Debian's packages. A site without a registry makes the same base from
# the same packages with mmdebstrap (docs/deploy.md: Building offline); nothing else differs.
#
# Layers are ordered by how often they change, so that an update on physical media carries only
# what changed (docker/bundle.py): Debian's packages, then the service's dependencies (rebuilt
# when pyproject.toml changes), then the project's own code and static files (a few MB).
FROM debian:trixie-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*

# Build tools live in this stage only: pip and venv never reach the final image.
# The dependencies named in pyproject.toml, as a requirements file: the venv below is rebuilt when
# they change, not when the version or anything else in pyproject.toml does.
FROM runtime AS requirements
WORKDIR /src
COPY pyproject.toml ./
RUN python3 -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["service"]))' >/requirements.txt

FROM runtime AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip python3-venv \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=requirements /requirements.txt /tmp/requirements.txt
RUN python3 -m venv --without-pip /opt/venv \
    && python3 -m pip --python /opt/venv/bin/python install --no-cache-dir -r /tmp/requirements.txt
WORKDIR /src
COPY pyproject.toml ./
# The project itself, beside the venv (/opt/app on PYTHONPATH), so its layer holds only our code.
COPY README.md ./
COPY pki ./pki
COPY supply ./supply
RUN python3 -m pip --python /opt/venv/bin/python install --no-cache-dir --no-deps --target /opt/app . \
    && rm -rf /opt/app/share
# Static files are collected at build so the running container never writes them. The key and data
# directory here exist only for this build step; the real ones come from the environment at run time.
# They are all Django's, DRF's and the API docs' (12 MB): the same files in every build with the
# same dependencies, so their layer is reused (below) and an update need not carry it.
RUN SUPPLY_SECRET_KEY=collectstatic-at-build-only \
    SUPPLY_DATA_DIR=/tmp/build-data \
    SUPPLY_STATIC_ROOT=/opt/supply/static \
    PYTHONPATH=/opt/app \
    /opt/app/bin/supply collectstatic --noinput --verbosity 0

FROM runtime
# Numeric ids: Kubernetes/ECS `runAsNonRoot` checks and bind-mounted file ownership both work on
# numbers, and 10001 collides with no Debian system account. /run/supply holds the gunicorn socket
# shared with the proxy; sticky and world-writable like /tmp because compose may run both
# containers as another uid (the PKI home's owner).
RUN groupadd --system --gid 10001 supply \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin supply \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/supply \
    && install -d -m 1777 /run/supply
# Least changing first: the builder reuses a COPY whose files have not changed (static files whose
# bytes are the same are the same layer), so a code change rebuilds only the last layer.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/supply/static /opt/supply/static
COPY --chmod=0755 docker/supply-entrypoint.sh /usr/local/bin/supply-entrypoint
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/supply-healthcheck
COPY --from=build /opt/app /opt/app
ENV PATH=/opt/app/bin:/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SUPPLY_DATA_DIR=/var/lib/supply \
    SUPPLY_STATIC_ROOT=/opt/supply/static \
    PKI_HOME=/pki \
    SUPPLY_BIND=0.0.0.0:8000
USER 10001:10001
WORKDIR /var/lib/supply
EXPOSE 8000
# gunicorn's arbiter stops its workers gracefully on SIGTERM (it is PID 1 after the entrypoint's exec).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["supply-healthcheck"]
ENTRYPOINT ["supply-entrypoint"]
CMD ["serve"]
