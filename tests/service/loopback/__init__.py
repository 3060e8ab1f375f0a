"""Tests of the CLI loopback login (service/loopback/)."""
