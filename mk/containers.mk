# Containers: build the Dockerfile with rootful podman, run compose.yaml
# with podman-compose, walk the demo story through the published ports, tear down.
# No registry here: the base image comes from debootstrap (scripts/containers/base-image)
# and stays in podman's storage, so only the first run on a machine pays for it.
CONTAINER_PACKAGES := podman buildah runc conmon netavark aardvark-dns \
    containernetworking-plugins fuse-overlayfs slirp4netns uidmap iptables catatonit \
    debootstrap
SYSTEM_PACKAGES += $(CONTAINER_PACKAGES)
PYBASE_IMAGE ?= localhost/pybase:bookworm
CONTAINERS_CONF_FILE := $(CURDIR)/build/containers/containers.conf
# podman reads only this file; BUILDAH_FORMAT=docker keeps HEALTHCHECK in built images.
CONTAINERS_ENV := CONTAINERS_CONF=$(CONTAINERS_CONF_FILE) BUILDAH_FORMAT=docker

.PHONY: test-containers container-base-image container-packages
# Only what podman needs (make compose-up uses it without the test's chromium, wrk, ...).
container-packages:
	@scripts/ensure-system-packages $(sort $(CONTAINER_PACKAGES))

container-base-image: container-packages
	@scripts/containers/containers-conf $(CONTAINERS_CONF_FILE) >/dev/null
	@$(CONTAINERS_ENV) scripts/containers/base-image $(PYBASE_IMAGE)

test-containers: install container-base-image
	$(CONTAINERS_ENV) GCLOGIN_TEST_CONTAINERS=1 GCLOGIN_TEST_BASE_IMAGE=$(PYBASE_IMAGE) \
	    $(PY) -m pytest tests/containers
