# The demo: `make demo` installs the runtime dependencies only (not the `test` extra) and
# runs the mock IdP and the web service under gunicorn on 127.0.0.1.
# State (demo config.toml, IdP database, session key) lives in $(DEMO_DIR). A port in use
# fails at once naming IDP_PORT/WEB_PORT; Ctrl-C, SIGTERM and SIGHUP (terminal closed) stop both.
IDP_PORT ?= 8081
WEB_PORT ?= 8080
DEMO_DIR ?= .demo
.PHONY: demo
demo: install-runtime
	$(PY) -m devtools.demo --idp-port $(IDP_PORT) --web-port $(WEB_PORT) --state-dir $(DEMO_DIR)
