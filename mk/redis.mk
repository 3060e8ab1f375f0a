# The Redis store (MOCK_IDP_STORE=redis://...): the tests start Debian's redis-server
# per session, in a temp dir; `make scale-demo` runs the compose profile `scale`.
SYSTEM_PACKAGES += redis-server

# `make scale-demo`: compose profile `scale` (Redis, idp-a and idp-b on the Redis store,
# HAProxy on 127.0.0.1:$(IDP_PORT)); `make scale-demo-down` stops it and forgets its state.
# docker compose if a Docker engine answers, else rootful podman with podman-compose
# (mk/containers.mk); SCALE_ENGINE=docker|podman chooses. Evaluated only by these targets.
SCALE_ENGINE ?= $(if $(shell docker info >/dev/null 2>&1 && echo up),docker,podman)
SCALE_COMPOSE = $(if $(filter docker,$(SCALE_ENGINE)),docker compose --profile scale,\
    $(CONTAINERS_ENV) BASE_IMAGE=$(PYBASE_IMAGE) $(PY) -m podman_compose --profile scale)
.PHONY: scale-demo scale-demo-down
scale-demo:
	@if [ "$(SCALE_ENGINE)" = podman ]; then $(MAKE) --no-print-directory install container-base-image; fi
	GCLOGIN_IDP_PORT=$(IDP_PORT) $(SCALE_COMPOSE) build idp-a redis balancer
	GCLOGIN_IDP_PORT=$(IDP_PORT) $(SCALE_COMPOSE) up -d redis
	@for i in $$(seq 60); do $(SCALE_COMPOSE) exec -T redis redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
	GCLOGIN_IDP_PORT=$(IDP_PORT) $(SCALE_COMPOSE) up -d idp-a idp-b balancer
	@$(PY) -c "import time, urllib.request as u; exec('for _ in range(90):\n try:\n  u.urlopen(\"http://127.0.0.1:$(IDP_PORT)/healthz\", timeout=2); break\n except OSError: time.sleep(1)\nelse: raise SystemExit(\"the balancer did not answer on 127.0.0.1:$(IDP_PORT)\")')"
	@echo "Mock IdP: 2 replicas on Redis behind HAProxy at http://127.0.0.1:$(IDP_PORT) (make scale-demo-down stops it)"

scale-demo-down:
	$(SCALE_COMPOSE) down -v -t 10
