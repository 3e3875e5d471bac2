# The edge: unprivileged nginx configured at start by `pki nginx-config` from the mounted PKI home.
# Build from the repository root:
#   docker build -f docker/proxy.Dockerfile -t tactical-edge/proxy:0.1.0 .
# nginx's stable line (even minor: 1.30 since April 2026) on Debian 13, the same Debian as the
# supply image's Python base. Current nginx images are built on Debian 13 only, and 1.28 no
# longer gets fixes; move to the next even line each April.
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.30-trixie

# nginx plus the Debian Python (3.13 on Debian 13) that runs `pki` at container start.
FROM ${NGINX_IMAGE} AS runtime
# Root only to install packages; the final stage switches to an unprivileged numeric user.
# hadolint ignore=DL3002
USER 0
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*

FROM runtime AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# Same interpreter path as the final stage (/usr/bin/python3), so the venv can be copied over.
# /opt/venv is what the image keeps: `pip install .`, the pki toolkit without the service's
# dependencies (no Django, gunicorn or psycopg at the edge). /opt/build-venv adds the `service`
# extra only to collect Django's static files here; it stays in this stage.
RUN python3 -m venv /opt/venv && python3 -m venv /opt/build-venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pki ./pki
COPY supply ./supply
RUN /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && /opt/build-venv/bin/pip install --no-cache-dir '.[service]'
# Django's static files, served by nginx at /supply/static/; collected here with a build-only key.
RUN SUPPLY_SECRET_KEY=collectstatic-at-build-only \
    SUPPLY_DATA_DIR=/tmp/build-data \
    SUPPLY_STATIC_ROOT=/opt/tactical-edge/static \
    /opt/build-venv/bin/supply collectstatic --noinput --verbosity 0

FROM runtime
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/tactical-edge/static /opt/tactical-edge/static
COPY templates /opt/tactical-edge/templates
COPY nginx /opt/tactical-edge/web
COPY --chmod=0755 docker/proxy-entrypoint.sh /usr/local/bin/proxy-entrypoint
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/edge-healthcheck
# The gunicorn socket volume's mount point (see supply.Dockerfile).
RUN install -d -m 1777 /run/supply
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    PKI_HOME=/pki \
    PROXY_SHARE=/opt/tactical-edge \
    PROXY_RUN_DIR=/tmp/nginx \
    PROXY_LISTEN=8443 \
    PROXY_UPSTREAM=unix:/run/supply/gunicorn.sock
# Numeric and not nginx's own 101: the same uid as the supply image, so one owner of the PKI home
# serves both. Everything nginx writes is under $PROXY_RUN_DIR in /tmp, so any uid works.
USER 10001:10001
EXPOSE 8443
# nginx's graceful stop: finish in-flight requests, close idle keep-alive connections at once.
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["edge-healthcheck", "proxy"]
ENTRYPOINT ["proxy-entrypoint"]
