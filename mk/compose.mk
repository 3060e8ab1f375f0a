# `make compose-up`: compose.yaml's idp and web services, detached, published on
# 127.0.0.1:$(IDP_PORT) and 127.0.0.1:$(WEB_PORT); `make compose-down` stops them and
# keeps their volumes (profiles, the IdP's database; `docker compose down -v` forgets them). docker compose if a Docker engine answers, else rootful podman
# with podman-compose (installed into the venv alone, not the `test` extra) and the
# debootstrap base image of mk/containers.mk (no registry needed); BUILDAH_FORMAT=docker
# (in CONTAINERS_ENV) keeps the image's HEALTHCHECK. COMPOSE_ENGINE=docker|podman chooses.
COMPOSE_ENGINE ?= $(if $(shell docker info >/dev/null 2>&1 && echo up),docker,podman)
COMPOSE_PORTS = GCLOGIN_IDP_PORT=$(IDP_PORT) GCLOGIN_WEB_PORT=$(WEB_PORT) \
    SERVICE_IDP_PUBLIC_URL=http://localhost:$(IDP_PORT) SERVICE_PUBLIC_URL=http://localhost:$(WEB_PORT)
COMPOSE = $(if $(filter docker,$(COMPOSE_ENGINE)),docker compose,\
    $(CONTAINERS_ENV) BASE_IMAGE=$(PYBASE_IMAGE) $(PY) -m podman_compose)
.PHONY: compose-up compose-down compose-deps compose-logs

# podman-compose 1.x on podman 4.3 ignores `condition: service_healthy` and podman
# without systemd runs no healthchecks by itself, so readiness is polled from here.
compose-deps:
	@if [ "$(COMPOSE_ENGINE)" = podman ]; then \
	    $(MAKE) --no-print-directory install-runtime container-base-image && \
	    { $(PY) -c 'import podman_compose' 2>/dev/null || $(PY) -m pip install -q 'podman-compose>=1.2'; }; \
	else command -v docker >/dev/null || { echo "compose-up: neither a Docker engine nor podman (COMPOSE_ENGINE=$(COMPOSE_ENGINE))" >&2; exit 1; }; fi

compose-up: compose-deps
	$(COMPOSE_PORTS) $(COMPOSE) up -d --build idp web
	@python3 -c "import time, urllib.request as u; exec('for url in (\"http://127.0.0.1:$(IDP_PORT)/healthz\", \"http://127.0.0.1:$(WEB_PORT)/healthz\"):\n for _ in range(120):\n  try:\n   u.urlopen(url, timeout=2); break\n  except OSError: time.sleep(1)\n else: raise SystemExit(\"compose-up: \" + url + \" did not answer in 120 s (logs: make compose-logs)\")')"
	@echo "gclogin in containers ($(COMPOSE_ENGINE)): open http://localhost:$(WEB_PORT)/ (mock IdP http://localhost:$(IDP_PORT));"
	@echo "  demo user alice@example.com / alice-demo-password; clients in mock_idp/seed.toml; make compose-down stops it"

compose-logs:
	$(COMPOSE_PORTS) $(COMPOSE) logs idp web

compose-down:
	$(COMPOSE_PORTS) $(COMPOSE) down -t 10
