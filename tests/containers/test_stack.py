"""The image and the compose stack, for real: build, up, healthchecks, story, down.

Runs under `make test-containers` (which `make test` calls), which sets
GCLOGIN_TEST_CONTAINERS=1; the plain `make test-python` run skips this module because
it needs root, podman and a few minutes.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.containers.stack import Stack

ENABLED = os.environ.get("GCLOGIN_TEST_CONTAINERS") == "1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not ENABLED, reason="container tests run under `make test-containers` "
                                           "(set GCLOGIN_TEST_CONTAINERS=1 to run them here)"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base_image = os.environ.get("GCLOGIN_TEST_BASE_IMAGE", "localhost/pybase:bookworm")
    stack = Stack(workdir=tmp_path_factory.mktemp("containers"), base_image=base_image)
    stack.ensure_base_image()
    with stack.up():
        yield stack


def test_each_healthcheck_command_passes(stack: Stack) -> None:
    containers = stack.containers()
    assert set(containers) == {"idp", "web"}
    for service, name in containers.items():
        result = stack.podman("healthcheck", "run", name, check=False)
        assert result.returncode == 0, f"{service}: {result.stdout}{result.stderr}"
        assert "unhealthy" not in result.stdout


def test_image_keeps_its_healthcheck_and_runs_as_non_root(stack: Stack) -> None:
    test = stack.podman("image", "inspect", stack.image, "--format",
                        "{{json .HealthCheck.Test}}").stdout
    assert "CMD-SHELL" in test and "/healthz" in test
    for service, name in stack.containers().items():
        uid = stack.podman("exec", name, "id", "-u").stdout.strip()
        assert uid != "0", f"{service} runs as root"


def test_ports_are_published_on_loopback_only(stack: Stack) -> None:
    expected = {"idp": stack.idp_port, "web": stack.web_port}
    for service, name in stack.containers().items():
        mappings = stack.podman("port", name).stdout.split()
        published = [m for m in mappings if ":" in m and not m.endswith("/tcp")]
        assert published == [f"127.0.0.1:{expected[service]}"], (service, mappings)


def test_blog_story_through_the_published_ports(stack: Stack) -> None:
    """REFERENCE §1 in a browser, through compose: implicit login as the demo user, users
    me; a client-credentials profile gets Genesys's user-context error."""
    from tests.web.walker import ALICE, CC_CLIENT, IMPLICIT_CLIENT, USER_CONTEXT_ERROR, Walker

    walker = Walker(stack.web_url)
    form = walker.get("/profiles/new")
    assert form.status_code == 200
    # The form offers this deployment's IdP, by its browser-facing URL, as the environment.
    assert f'value="{stack.idp_url}"' in form.text

    start = walker.new_profile(name="blog", environment=stack.idp_url, grant_type="2",
                               client_id=IMPLICIT_CLIENT)
    assert start.status_code == 303, start.text
    assert start.headers["Location"].startswith(stack.idp_url + "/oauth/authorize?")
    done = walker.browser_login(start, ALICE)
    assert done.status_code == 303 and done.headers["Location"] == "/profiles/blog", done.text
    me = walker.get("/profiles/blog/me")
    assert me.status_code == 200 and ALICE[0] in me.text, me.text

    robot = walker.new_profile(name="robot", environment=stack.idp_url, grant_type="1",
                               client_id=CC_CLIENT[0], client_secret=CC_CLIENT[1])
    assert robot.status_code == 303, robot.text
    refused = walker.get("/profiles/robot/me")
    assert 400 <= refused.status_code < 500 and USER_CONTEXT_ERROR in refused.text

    # State lives on the named volumes: config.toml 0600 in a 0700 directory, the IdP's
    # SQLite beside nothing else of the image; no secret in either container's output.
    web, idp = stack.containers()["web"], stack.containers()["idp"]
    modes = stack.podman("exec", web, "stat", "-c", "%a %n", "/data/web", "/data/web/config.toml").stdout
    assert modes.split("\n")[:2] == ["700 /data/web", "600 /data/web/config.toml"], modes
    assert stack.podman("exec", idp, "test", "-s", "/data/idp/mock_idp.sqlite3", check=False).returncode == 0
    volumes = stack.podman("volume", "ls", "-q", "--filter",
                           f"label=io.podman.compose.project={stack.project}").stdout.split()
    assert {f"{stack.project}_idp-data", f"{stack.project}_web-data"} <= set(volumes)
    logs = stack.logs()
    assert CC_CLIENT[1] not in logs and "access_token=" not in logs


def test_conformance_profile_runs_the_suite_against_the_two_services(stack: Stack) -> None:
    """`docker compose --profile conformance run --rm conformance`, as docs/containers.md says
    (plus a per-test bound): the suite reaches idp:8081 and web:8080 by service name
    and leaves its reports on the volume."""
    run = stack.compose("--profile", "conformance", "run", "--rm", "-T", "--no-deps",
                        "conformance", "self-check", "--timeout=120",
                        "-q", "--color=no", timeout=900, check=False)
    output = run.stdout + run.stderr
    report = stack.podman("run", "--rm", "--no-healthcheck", "-v",
                          f"{stack.project}_conformance-reports:/r:ro", stack.image,
                          "cat", "/r/conformance.md", check=False)
    assert report.returncode == 0, f"no report on the volume:\n{report.stderr}\n{output[-3000:]}"
    assert "self-check" in report.stdout and "http://idp:8081" in report.stdout, report.stdout[:2000]
    # The services' own output too: a stalled call between them (web -> idp) shows there.
    assert run.returncode == 0, f"{output[-6000:]}\n{stack.logs()[-4000:]}"
