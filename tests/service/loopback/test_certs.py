"""The per-login loopback certificate (R29)."""
import ipaddress
import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from service.loopback.certs import make_certificate, server_ssl_context


def test_certificate_names_and_validity():
    cert_pem, key_pem = make_certificate()
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert make_certificate()[1] != key_pem  # a fresh key each time


def test_certificate_lives_as_long_as_the_login_may_wait():
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    for seconds in (30, 300, 3600):
        cert = x509.load_pem_x509_certificate(make_certificate(now, timedelta(seconds=seconds))[0])
        assert cert.not_valid_before_utc == now - timedelta(minutes=1)
        assert cert.not_valid_after_utc == now + timedelta(seconds=seconds, minutes=1)


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memfd_create is Linux-only")
def test_on_linux_the_key_never_touches_a_disk(tmp_path, monkeypatch):
    from service.loopback import certs
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    monkeypatch.setattr(certs, "_load_through_private_dir",
                        lambda *a: pytest.fail("the key went through a directory"))
    context, cert_pem = server_ssl_context(timedelta(seconds=60))
    assert cert_pem.startswith(b"-----BEGIN CERTIFICATE")
    assert os.listdir(private) == []


def test_without_memfd_key_files_live_in_a_private_dir_and_are_deleted(tmp_path, monkeypatch):
    import shutil
    import stat

    from service.loopback import certs
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    seen = []
    real_rmtree = shutil.rmtree

    def spy(path, **kwargs):
        seen.append((stat.S_IMODE(os.stat(path).st_mode), sorted(
            stat.S_IMODE(os.stat(os.path.join(path, f)).st_mode) for f in os.listdir(path))))
        real_rmtree(path, **kwargs)

    monkeypatch.setattr(certs.shutil, "rmtree", spy)
    monkeypatch.setattr(certs, "_load_from_memory", lambda *a: False)  # a runtime without memfd
    context, _ = server_ssl_context()
    assert context is not None
    assert seen == [(0o700, [0o600, 0o600])]
    assert os.listdir(private) == []
