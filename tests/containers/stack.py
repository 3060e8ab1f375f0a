"""Drive compose.yaml with rootful podman and podman-compose, and always clean up.

This machine has no Docker engine and no registry (../shared/CONTAINERS.md): the base
image is a local debootstrap image, healthchecks never fire by themselves and
podman-compose ignores ``service_healthy``, so readiness is polled from the host
through the published ports, every wait bounded.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devtools.seeds import DEMO_SEED, seed_with_callback, web_callback
from devtools.servers import REPO, free_port

COMPOSE_FILES = (REPO / "compose.yaml", REPO / "tests" / "containers" / "compose.test.yaml")
SCRIPTS = REPO / "scripts" / "containers"
IMAGE_LABEL = "org.opencontainers.image.title=gclogin"
#: the dependency stage, tagged so its layers survive the clean-up's prune (warm runs)
DEPS_CACHE_IMAGE = "localhost/gclogin-cache:deps"
#: settings that must not leak from the caller's shell into compose's interpolation
_STRIPPED = ("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_", "CONFORMANCE_",
             "BASE_IMAGE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")


class StackError(RuntimeError):
    """A podman step failed; the message carries the command and its output's tail."""


def http_urls(values: Sequence[str]) -> list[str]:
    """The http(s) URLs among pip index settings; file:// indexes do not exist in a build."""
    return [v for value in values for v in value.split() if v.startswith(("http://", "https://"))]


def parse_pip_config(listing: str) -> dict[str, list[str]]:
    """``pip config list`` lines (``global.index-url='...'``) → {key: [values]}."""
    found: dict[str, list[str]] = {}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        if not sep or "." not in name:
            continue
        key = name.rsplit(".", 1)[1].strip()
        found.setdefault(key, []).append(value.strip().strip("'\""))
    return found


def pip_index_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The host's pip index settings a build can use (environment wins over config files)."""
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                             capture_output=True, text=True, timeout=60).stdout
    config = parse_pip_config(listing)
    index = http_urls([environ["PIP_INDEX_URL"]] if environ.get("PIP_INDEX_URL")
                      else config.get("index-url", []))
    extra = http_urls([environ["PIP_EXTRA_INDEX_URL"]] if environ.get("PIP_EXTRA_INDEX_URL")
                      else config.get("extra-index-url", []))
    return {"GCLOGIN_TEST_PIP_INDEX_URL": index[0] if index else "",
            "GCLOGIN_TEST_PIP_EXTRA_INDEX_URL": " ".join(extra)}


def run(cmd: Sequence[str], env: Mapping[str, str], timeout: float,
        log: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one command, bounded; failures raise StackError with the output's tail."""
    try:
        proc = subprocess.run(list(cmd), env=dict(env), cwd=REPO, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{' '.join(cmd)}: no result within {timeout:.0f}s") from exc
    output = proc.stdout + proc.stderr
    if log is not None:
        with log.open("a") as fh:
            fh.write(f"$ {' '.join(cmd)}\n{output}\n")
    if check and proc.returncode != 0:
        raise StackError(f"{' '.join(cmd)} exited {proc.returncode}:\n{output[-4000:]}")
    return proc


@dataclass
class Stack:
    """One compose project on free loopback ports, with its own image tag and volumes."""

    workdir: Path
    base_image: str
    project: str = field(default_factory=lambda: f"gclogintest{secrets.token_hex(4)}")
    idp_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image = f"localhost/gclogin-test:{self.project}"
        self.log = self.workdir / "podman.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED)}
        if not base.get("CONTAINERS_CONF"):
            conf = self.workdir / "containers.conf"
            run([str(SCRIPTS / "containers-conf"), str(conf)], base, timeout=30)
            base["CONTAINERS_CONF"] = str(conf)
        seed_dir = self.workdir / "seed"          # bind-mounted: readable by the app user
        seed_dir.mkdir(mode=0o755)
        seed_dir.chmod(0o755)
        seed = seed_dir / "seed.toml"
        seed.write_text(seed_with_callback(DEMO_SEED.read_text(encoding="utf-8"),
                                           web_callback(self.web_url, self.idp_url)),
                        encoding="utf-8")
        seed.chmod(0o644)
        self.env = {
            **base,
            "GCLOGIN_TEST_SEED_DIR": str(seed_dir),
            "BUILDAH_FORMAT": "docker",          # OCI images drop HEALTHCHECK
            "BASE_IMAGE": self.base_image,
            "GCLOGIN_IMAGE": self.image,
            "GCLOGIN_IDP_PORT": str(self.idp_port),
            "GCLOGIN_WEB_PORT": str(self.web_port),
            "SERVICE_IDP_PUBLIC_URL": self.idp_url,
            "SERVICE_PUBLIC_URL": self.web_url,
            **pip_index_settings(os.environ),
        }

    @property
    def idp_url(self) -> str:
        return f"http://127.0.0.1:{self.idp_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def podman(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(["podman", *args], self.env, timeout, self.log, check)

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        files = [arg for path in COMPOSE_FILES for arg in ("-f", str(path))]
        return run([sys.executable, "-m", "podman_compose", "-p", self.project, *files, *args],
                   self.env, timeout, self.log, check)

    def ensure_base_image(self) -> None:
        """Build the debootstrap base image unless podman already has it (once per machine)."""
        run([str(SCRIPTS / "base-image"), self.base_image], self.env, timeout=900, log=self.log)

    def containers(self, *status: str) -> dict[str, str]:
        """service name → container name, for this project's containers: running ones,
        or those in the given states ("exited", "created", ...; "all" for every one)."""
        states = status or ("running",)
        flags = ["-a"] + ([] if "all" in states else [f"--filter=status={s}" for s in states])
        out = self.podman("ps", *flags,
                          "--filter", f"label=io.podman.compose.project={self.project}",
                          "--format", '{{.Names}} {{index .Labels "com.docker.compose.service"}}').stdout
        pairs = (line.split() for line in out.splitlines() if line.strip())
        return {service: name for name, service in pairs}

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Poll both /healthz through the published ports (healthchecks don't fire here)."""
        deadline = time.monotonic() + timeout
        for url in (self.idp_url, self.web_url):
            last: Exception | None = None
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=3) as resp:
                        if resp.status == 200:
                            break
                except (urllib.error.URLError, OSError) as exc:
                    last = exc
                if time.monotonic() > deadline:
                    raise StackError(f"{url}/healthz did not answer within {timeout:.0f}s: {last}\n"
                                     + self.logs())
                exited = self.containers("exited")
                if exited:
                    raise StackError(f"{', '.join(sorted(exited))} exited before {url}/healthz "
                                     f"answered\n" + self.logs())
                time.sleep(1.0)

    def logs(self) -> str:
        """The containers' output, for failure messages."""
        parts = []
        for service, name in sorted(self.containers("all").items()):
            out = self.podman("logs", "--tail", "60", name, check=False)
            parts.append(f"--- {service} ({name}) ---\n{out.stdout}{out.stderr}")
        return "\n".join(parts) or "(no containers running)"

    @contextlib.contextmanager
    def up(self) -> Iterator[Stack]:
        """Build the image through compose, start the stack, yield; always tear down.

        idp starts first, so web can be given its address (compose.test.yaml says why).
        """
        try:
            self.compose("build", "web", timeout=900)
            self.keep_dependency_layers()
            self.compose("up", "-d", "idp", timeout=300)
            self.env["GCLOGIN_TEST_IDP_ADDR"] = self.address("idp")
            self.compose("up", "-d", "--no-deps", "web", timeout=300)
            self.wait_healthy()
            yield self
        finally:
            self.down()

    def address(self, service: str) -> str:
        """The service's IPv4 address on the project's network."""
        name = self.containers().get(service)
        if name is None:
            raise StackError(f"{service} is not running\n" + self.logs())
        network = f"{self.project}_default"
        found = self.podman("inspect", name, "--format",
                            f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}').stdout.strip()
        if not found:
            raise StackError(f"{service} has no address on {network}")
        return found

    def keep_dependency_layers(self) -> None:
        """Tag the Dockerfile's dependency stage (all cache hits, instant) so the next
        run reinstalls nothing unless pyproject.toml changed."""
        args = [arg for key in ("BASE_IMAGE", "GCLOGIN_TEST_PIP_INDEX_URL",
                                "GCLOGIN_TEST_PIP_EXTRA_INDEX_URL")
                for arg in ("--build-arg", f"{key.removeprefix('GCLOGIN_TEST_')}={self.env[key]}")]
        self.podman("build", "-q", "--target", "base", "-t", DEPS_CACHE_IMAGE, *args, ".",
                    timeout=600)

    def down(self) -> None:
        """Remove containers, pod, network, volumes and the test image; keep base + cache."""
        self.compose("--profile", "conformance", "down", "-v", "-t", "10", timeout=180, check=False)
        leftover = self.podman("ps", "-aq", "--filter",
                               f"label=io.podman.compose.project={self.project}", check=False)
        for cid in leftover.stdout.split():
            self.podman("rm", "-f", "-v", cid, check=False)
        volumes = self.podman("volume", "ls", "-q", "--filter",
                              f"label=io.podman.compose.project={self.project}", check=False)
        for name in volumes.stdout.split():
            self.podman("volume", "rm", "-f", name, check=False)
        self.podman("network", "rm", "-f", f"{self.project}_default", check=False)
        self.podman("rmi", "-f", self.image, check=False)
        # Untagged leftovers of our own builds (labelled), e.g. the wheel stage.
        self.podman("image", "prune", "-f", "--filter", f"label={IMAGE_LABEL}", check=False)
