"""The demo's IdP shows its demo credentials on its landing page (tests/mock_idp/test_landing.py)."""
from __future__ import annotations

from devtools.demo import environments


def test_the_demo_sets_the_flag_for_its_idp_only(tmp_path):
    idp, web = environments(tmp_path, 8081, 8080, tmp_path / "seed.toml", {})  # set by the demo, not inherited
    assert idp["MOCK_IDP_SHOW_DEMO_CREDENTIALS"] == "1"
    assert not any(k.startswith("MOCK_IDP_") for k in web)
