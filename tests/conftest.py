"""Fixtures for every test: a clean environment, so no developer setting leaks in."""
import os

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
