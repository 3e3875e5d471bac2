# The edge: unprivileged nginx configured at start by `pki nginx-config` from the mounted PKI home.
# Build from the repository root:
#   docker build -f docker/proxy.Dockerfile -t tactical-edge/proxy:0.1.0 .
# Debian 13's nginx (1.26, with Debian's security fixes) and Python (3.13, which runs `pki` at
# container start) on the same base as the other images (see supply.Dockerfile).
FROM debian:trixie-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx python3 \
    && rm -rf /var/lib/apt/lists/*

# The dependencies named in pyproject.toml (see supply.Dockerfile): pki's, and the service's.
FROM runtime AS requirements
WORKDIR /src
COPY pyproject.toml ./
RUN python3 -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"]), file=open("/pki.txt", "w")); print("\n".join(p["optional-dependencies"]["service"]), file=open("/service.txt", "w"))'

FROM runtime AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip python3-venv \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# /opt/venv is what the image keeps: pki's dependencies alone (no Django, gunicorn or psycopg at the
# edge). /opt/build-venv adds the service's only to collect Django's static files here.
COPY --from=requirements /pki.txt /service.txt /tmp/
RUN python3 -m venv --without-pip /opt/venv \
    && python3 -m venv --without-pip /opt/build-venv \
    && python3 -m pip --python /opt/venv/bin/python install --no-cache-dir -r /tmp/pki.txt \
    && python3 -m pip --python /opt/build-venv/bin/python install --no-cache-dir -r /tmp/pki.txt -r /tmp/service.txt
WORKDIR /src
COPY pyproject.toml ./
COPY README.md ./
COPY pki ./pki
COPY supply ./supply
RUN python3 -m pip --python /opt/venv/bin/python install --no-cache-dir --no-deps --target /opt/app . \
    && rm -rf /opt/app/share
# Django's static files, served by nginx at /supply/static/; collected here with a build-only key.
RUN SUPPLY_SECRET_KEY=collectstatic-at-build-only \
    SUPPLY_DATA_DIR=/tmp/build-data \
    SUPPLY_STATIC_ROOT=/opt/tactical-edge/static \
    PYTHONPATH=/opt/app \
    /opt/build-venv/bin/python -m supply.manage collectstatic --noinput --verbosity 0

FROM runtime
# Least changing first (see supply.Dockerfile): a code change rebuilds only the last layers.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/tactical-edge/static /opt/tactical-edge/static
COPY --chmod=0755 docker/proxy-entrypoint.sh /usr/local/bin/proxy-entrypoint
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/edge-healthcheck
# The gunicorn socket volume's mount point (see supply.Dockerfile).
RUN install -d -m 1777 /run/supply
COPY templates /opt/tactical-edge/templates
COPY nginx /opt/tactical-edge/web
COPY --from=build /opt/app /opt/app
ENV PATH=/opt/app/bin:/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/app \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    PKI_HOME=/pki \
    PROXY_SHARE=/opt/tactical-edge \
    PROXY_RUN_DIR=/tmp/nginx \
    PROXY_LISTEN=8443 \
    PROXY_UPSTREAM=unix:/run/supply/gunicorn.sock
# Numeric: the same uid as the supply image, so one owner of the PKI home serves both. Everything
# nginx writes is under $PROXY_RUN_DIR in /tmp, so any uid works.
USER 10001:10001
EXPOSE 8443
# nginx's graceful stop: finish in-flight requests, close idle keep-alive connections at once.
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["edge-healthcheck", "proxy"]
ENTRYPOINT ["proxy-entrypoint"]
