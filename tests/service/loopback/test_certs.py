"""The per-login loopback certificate (R29)."""
import ipaddress
import os
import tempfile
from datetime import timedelta

from cryptography import x509

from service.loopback.certs import make_certificate, server_ssl_context


def test_certificate_names_and_validity():
    cert_pem, key_pem = make_certificate()
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= timedelta(days=1, minutes=5)
    assert make_certificate()[1] != key_pem  # a fresh key each time


def test_key_files_live_in_a_private_dir_and_are_deleted(tmp_path, monkeypatch):
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
    context, _ = server_ssl_context()
    assert context is not None
    assert seen == [(0o700, [0o600, 0o600])]
    assert os.listdir(private) == []
