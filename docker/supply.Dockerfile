# The supply service: Django + DRF under gunicorn. Build from the repository root:
#   docker build -f docker/supply.Dockerfile -t tactical-edge/supply:0.1.0 .
# A maintained release line, not a floating tag: Python 3.11 (what the project targets) on
# Debian 13 (trixie), whose security support outlasts Debian 12's (ended June 2026, LTS only).
ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pki ./pki
COPY supply ./supply
# A regular (not editable) install of pki and the service (the `service` extra): the final stage
# copies only the venv, never the source tree.
RUN /opt/venv/bin/pip install --no-cache-dir '.[service]' \
    && /opt/venv/bin/pip uninstall --yes pip setuptools
# Static files are collected at build so the running container never writes them. The key and data
# directory here exist only for this build step; the real ones come from the environment at run time.
RUN SUPPLY_SECRET_KEY=collectstatic-at-build-only \
    SUPPLY_DATA_DIR=/tmp/build-data \
    SUPPLY_STATIC_ROOT=/opt/supply/static \
    /opt/venv/bin/supply collectstatic --noinput --verbosity 0

FROM ${PYTHON_IMAGE}
# Numeric ids: Kubernetes/ECS `runAsNonRoot` checks and bind-mounted file ownership both work on
# numbers, and 10001 collides with no Debian system account. /run/supply holds the gunicorn socket
# shared with the proxy; sticky and world-writable like /tmp because compose may run both
# containers as another uid (the PKI home's owner).
ARG APP_UID=10001
ARG APP_GID=10001
RUN groupadd --system --gid "${APP_GID}" supply \
    && useradd --system --uid "${APP_UID}" --gid "${APP_GID}" --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin supply \
    && install -d -o "${APP_UID}" -g "${APP_GID}" -m 0700 /var/lib/supply \
    && install -d -m 1777 /run/supply
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/supply/static /opt/supply/static
COPY --chmod=0755 docker/supply-entrypoint.sh /usr/local/bin/supply-entrypoint
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/supply-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SUPPLY_DATA_DIR=/var/lib/supply \
    SUPPLY_STATIC_ROOT=/opt/supply/static \
    PKI_HOME=/pki \
    SUPPLY_BIND=0.0.0.0:8000
USER ${APP_UID}:${APP_GID}
WORKDIR /var/lib/supply
EXPOSE 8000
# gunicorn's arbiter stops its workers gracefully on SIGTERM (it is PID 1 after the entrypoint's exec).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["supply-healthcheck"]
ENTRYPOINT ["supply-entrypoint"]
CMD ["serve"]
