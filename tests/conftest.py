"""Fixtures for every test: a clean environment, so no developer setting leaks in."""
import os
import subprocess

import pytest
from hypothesis import settings

# No per-example time limit: timings come from `make bench`, and one example slowed by a
# busy 2-CPU machine must not fail a property (DeadlineExceeded, or "unreliable timings").
settings.register_profile("gclogin", deadline=None)
settings.load_profile("gclogin")

_OURS = ("GENESYSCLOUD_", "GCLOGIN_", "MOCK_IDP_", "SERVICE_", "CONFORMANCE_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(_OURS):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()


@pytest.fixture(autouse=True)
def _unmarked_tests_start_no_process(request, monkeypatch):
    """`make test-fast` runs `-m "not slow"`: a test that starts a subprocess (a server, the
    CLI, a browser) must say so with @pytest.mark.slow, or it fails here, whichever run."""
    if request.node.get_closest_marker("slow"):
        return

    def refuse(self, args, *rest, **kwargs):
        pytest.fail(f"{request.node.nodeid} starts a process ({args!r:.80}): mark it @pytest.mark.slow",
                    pytrace=False)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
