# The Redis store (MOCK_IDP_STORE=redis://...): the tests start Debian's redis-server
# per session, in a temp dir; `make scale-demo` runs the compose profile `scale`.
SYSTEM_PACKAGES += redis-server
