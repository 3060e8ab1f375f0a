"""A throw-away self-signed certificate for one HTTPS loopback login (R29).

A fresh EC key per login, SAN IP:127.0.0.1, IP:::1 and DNS:localhost, valid only as long
as the login may wait (its ``--timeout``, plus a minute for clocks). ``ssl`` loads a key
only from a path: on Linux that path is an anonymous memory file (``memfd_create``), so
the key never touches a disk; elsewhere it is written into a private 0700 temporary
directory, loaded, and deleted before the server starts.
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

CLOCK_SLACK = timedelta(minutes=1)
DEFAULT_LIFETIME = timedelta(minutes=5)  # the login's default --timeout


def make_certificate(now: datetime | None = None,
                     lifetime: timedelta = DEFAULT_LIFETIME) -> tuple[bytes, bytes]:
    """(certificate PEM, unencrypted private key PEM) for localhost/127.0.0.1, valid from a
    minute ago until ``lifetime`` plus a minute from now."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gclogin loopback")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SLACK)
        .not_valid_after(now + lifetime + CLOCK_SLACK)
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


def server_ssl_context(lifetime: timedelta = DEFAULT_LIFETIME) -> tuple[ssl.SSLContext, bytes]:
    """A TLS server context with a fresh certificate; returns (context, certificate PEM)."""
    cert_pem, key_pem = make_certificate(lifetime=lifetime)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not _load_from_memory(context, cert_pem, key_pem):
        _load_through_private_dir(context, cert_pem, key_pem)
    return context, cert_pem


def _load_from_memory(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> bool:
    """Load through anonymous memory files (Linux); False where the runtime has none."""
    if not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"):
        return False
    fds: list[int] = []
    try:
        for data in (cert_pem, key_pem):
            fd = os.memfd_create("gclogin-tls", os.MFD_CLOEXEC)
            fds.append(fd)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        context.load_cert_chain(*(f"/proc/self/fd/{fd}" for fd in fds))
        return True
    except OSError:
        return False
    finally:
        for fd in fds:
            os.close(fd)


def _load_through_private_dir(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """The key on disk only inside a 0700 directory, for the instant it takes to load."""
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
