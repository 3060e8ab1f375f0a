"""The compose profile `scale` for real: Redis, two mock IdP replicas on it, HAProxy in
front on the published IdP port; the sign-in story through the balancer, with one replica
killed halfway (the other serves it to the end, nothing lost).

Runs under `make test-containers` (GCLOGIN_TEST_CONTAINERS=1), as test_stack.py does.
"""
from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests

from mock_idp.testing import demo_seed, parse_login_form
from tests.containers.stack import Stack, StackError
from tests.mock_idp.conftest import code_params, pkce_pair, query

ENABLED = os.environ.get("GCLOGIN_TEST_CONTAINERS") == "1"
TIMEOUT = 10

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not ENABLED, reason="container tests run under `make test-containers` "
                                           "(set GCLOGIN_TEST_CONTAINERS=1 to run them here)"),
]

SEED = demo_seed()
ALICE = next(u for u in SEED.users if u.username == "alice@example.com")
CC = next(c for c in SEED.clients if c.authorized_grant_type == "CLIENT-CREDENTIALS")
PKCE = next(c for c in SEED.clients if c.authorized_grant_type == "CODE")


def wait_for(check, what: str, stack: Stack, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StackError(f"{what} within {timeout:.0f}s\n" + stack.logs())
        time.sleep(1.0)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base_image = os.environ.get("GCLOGIN_TEST_BASE_IMAGE", "localhost/pybase:bookworm")
    stack = Stack(workdir=tmp_path_factory.mktemp("scale"), base_image=base_image)
    extra_images = {"GCLOGIN_REDIS_IMAGE": f"localhost/gclogin-test-redis:{stack.project}",
                    "GCLOGIN_BALANCER_IMAGE": f"localhost/gclogin-test-balancer:{stack.project}"}
    stack.env.update(extra_images)
    stack.ensure_base_image()
    try:
        stack.compose("build", "web", timeout=900)  # the app image the replicas run
        stack.compose("--profile", "scale", "build", "redis", "balancer", timeout=900)
        stack.compose("--profile", "scale", "up", "-d", "--no-deps", "redis", timeout=300)
        wait_for(lambda: stack.podman("exec", stack.containers()["redis"], "redis-cli", "ping",
                                      check=False).stdout.strip() == "PONG", "redis did not answer", stack)
        stack.compose("--profile", "scale", "up", "-d", "--no-deps", "idp-a", "idp-b", "balancer",
                      timeout=300)
        wait_for(lambda: answers(stack.idp_url + "/healthz"), "the balancer did not answer", stack)
        yield stack
    finally:
        stack.compose("--profile", "scale", "down", "-v", "-t", "10", timeout=180, check=False)
        stack.down()
        for image in extra_images.values():
            stack.podman("rmi", "-f", image, check=False)


def sign_in(base: str) -> requests.Response:
    """Authorize, log in, redeem the code: every step a fresh request to the balancer."""
    verifier, challenge = pkce_pair()
    browser = requests.Session()
    page = browser.get(base + "/oauth/authorize", timeout=TIMEOUT,
                       params=code_params(challenge, redirect_uri=PKCE.registered_redirect_uri[0]))
    assert page.status_code == 200, page.text
    form = parse_login_form(page.text)
    done = browser.post(urljoin(base, form.action), allow_redirects=False, timeout=TIMEOUT,
                        data={**form.fields, "username": ALICE.username, "password": ALICE.password})
    assert done.status_code in (302, 303), done.text
    return requests.post(base + "/oauth/token", timeout=TIMEOUT, data={
        "grant_type": "authorization_code", "code": query(done.headers["Location"])["code"],
        "redirect_uri": PKCE.registered_redirect_uri[0], "client_id": PKCE.id,
        "code_verifier": verifier})


def test_the_story_through_the_balancer_survives_a_replica_killed_halfway(scale: Stack) -> None:
    base = scale.idp_url
    assert {"redis", "idp-a", "idp-b", "balancer"} <= set(scale.containers())
    assert "idp" not in scale.containers() and "web" not in scale.containers()

    first = sign_in(base)
    assert first.status_code == 200, first.text
    alice = {"Authorization": f"Bearer {first.json()['access_token']}"}
    robot = requests.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(CC.id, CC.secret), timeout=TIMEOUT)
    assert robot.status_code == 200, robot.text
    statuses = [requests.get(base + "/api/v2/users/me", headers=alice, timeout=TIMEOUT).status_code
                for _ in range(6)]  # round robin: both replicas answer for one token
    assert statuses == [200] * 6

    scale.podman("kill", scale.containers()["idp-a"])

    # Halfway: the token from before, a new sign-in, a revocation, all served by idp-b.
    statuses = [requests.get(base + "/api/v2/users/me", headers=alice, timeout=TIMEOUT).status_code
                for _ in range(6)]
    assert statuses == [200] * 6
    second = sign_in(base)
    assert second.status_code == 200, second.text
    assert requests.delete(base + "/api/v2/tokens/me", headers=alice, timeout=TIMEOUT).status_code == 204
    assert requests.get(base + "/api/v2/users/me", headers=alice, timeout=TIMEOUT).status_code == 401
    again = {"Authorization": f"Bearer {second.json()['access_token']}"}
    assert requests.get(base + "/api/v2/users/me", headers=again, timeout=TIMEOUT).json()["id"] == ALICE.id
    assert "idp-b" in scale.containers()  # (idp-a may be back: restart on-failure)
