# Until the web service exists the demo runs the mock IdP alone.
IDP_PORT ?= 8081
WEB_PORT ?= 8080
.PHONY: demo
demo: install
	$(PY) -m mock_idp.demo --idp-port $(IDP_PORT) --web-port $(WEB_PORT)
