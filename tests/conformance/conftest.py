"""The package's pytest plugin (fixtures and the per-mode selection) for the in-tree run."""
from gclogin_conformance.plugin import *  # noqa: F403
from gclogin_conformance.plugin import pytest_addoption, pytest_collection_modifyitems, pytest_configure  # noqa: F401
