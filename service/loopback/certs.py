"""A throw-away self-signed certificate for one HTTPS loopback login (R29).

A fresh EC key per login, SAN IP:127.0.0.1, IP:::1 and DNS:localhost, valid one day.
``ssl`` can only load a key from a file, so key and certificate are written into a
private 0700 temporary directory, loaded, and deleted before the server even starts.
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import ssl
import tempfile
from datetime import datetime, timedelta, UTC

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..private_files import open_private

VALIDITY = timedelta(days=1)


def make_certificate(now: datetime | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, unencrypted private key PEM) for localhost/127.0.0.1."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gclogin loopback")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
            x509.DNSName("localhost"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_ssl_context() -> tuple[ssl.SSLContext, bytes]:
    """A TLS server context with a fresh certificate; returns (context, certificate PEM).

    The key exists on disk only inside a 0700 directory for the instant it takes to load.
    """
    cert_pem, key_pem = make_certificate()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    directory = tempfile.mkdtemp(prefix="gclogin-tls-")  # mkdtemp creates it 0700
    try:
        cert_path = os.path.join(directory, "cert.pem")
        key_path = os.path.join(directory, "key.pem")
        for path, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = open_private(path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        context.load_cert_chain(cert_path, key_path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return context, cert_pem
