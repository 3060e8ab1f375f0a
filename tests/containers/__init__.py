"""The Dockerfile and compose.yaml, run for real with podman (`make test-containers`)."""
