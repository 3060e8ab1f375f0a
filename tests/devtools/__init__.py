"""Tests of the development tools (devtools/)."""
