# Owned by the containers work (issue 4). Placeholder until it lands.
.PHONY: test-containers
test-containers:
	@echo "test-containers: not yet implemented"
