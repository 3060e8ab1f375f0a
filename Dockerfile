# One image for both services: the web service (default command) and the mock IdP
# (compose sets its command). Build here with a local base image:
#   podman build --build-arg BASE_IMAGE=localhost/pybase:bookworm -t gclogin .
ARG BASE_IMAGE=python:3.12-slim

# --- dependencies: their own layer, so editing the source does not reinstall them --
FROM ${BASE_IMAGE} AS base
LABEL org.opencontainers.image.title="gclogin" \
      org.opencontainers.image.description="gclogin web service and mock Genesys IdP"
# Index settings for builds behind a mirror; empty means PyPI.
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# A venv in every case: Debian's python3 refuses system-wide pip installs (PEP 668).
COPY pyproject.toml /tmp/pyproject.toml
RUN [ -n "$PIP_INDEX_URL" ] || unset PIP_INDEX_URL; \
    [ -n "$PIP_EXTRA_INDEX_URL" ] || unset PIP_EXTRA_INDEX_URL; \
    python3 -m venv /opt/venv \
    && python3 -c "import tomllib; p = tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['conformance']))" >/tmp/requirements.txt \
    && pip install -q -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt /tmp/pyproject.toml

# --- the project as a wheel, built from the source tree -----------------------------
FROM base AS wheel
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
COPY . /src
RUN [ -n "$PIP_INDEX_URL" ] || unset PIP_INDEX_URL; \
    [ -n "$PIP_EXTRA_INDEX_URL" ] || unset PIP_EXTRA_INDEX_URL; \
    pip wheel -q --no-deps --wheel-dir /wheels /src

# --- runtime ----------------------------------------------------------------------
FROM base
COPY --from=wheel /wheels /tmp/wheels
# Every requirement is already in the venv, so this needs no network.
RUN pip install -q --no-index "$(ls /tmp/wheels/gclogin-*.whl)[conformance]" \
    && pip check \
    && rm -rf /tmp/wheels \
    && groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0700 /data/idp /data/web \
    && install -d -o app -g app -m 0755 /app /app/reports
# The services and the conformance suite (`gclogin-conformance`, installed with the
# `conformance` extra) import the installed packages, not source files.
WORKDIR /app
COPY gunicorn.conf.py ./

# Mount volumes on /data/idp (the IdP's SQLite) and /data/web (config.toml and the
# web service's session key); the image makes both owned by the app user.
ENV MOCK_IDP_DB=/data/idp/mock_idp.sqlite3 \
    GCLOGIN_CONFIG=/data/web/config.toml \
    PORT=8080
USER 10001:10001
EXPOSE 8080 8081
# gunicorn binds 0.0.0.0:$PORT when no --bind is given, so one check serves both
# services (compose sets PORT=8081 for the IdP). No curl in slim images: urllib.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD python3 -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/healthz', timeout=4)"
CMD ["gunicorn", "--config", "python:service.web.gunicorn_conf", "service:create_app()"]
