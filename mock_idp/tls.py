"""`--tls --domain DOMAIN`: the mock under Genesys's own host names, over HTTPS.

`gc` and the JavaScript SDK's `setEnvironment(DOMAIN)` build `https://login.DOMAIN` and
`https://api.DOMAIN` themselves. A local CA (its key 0600 in the state directory, kept
across restarts, so clients trust it once) signs a server certificate for both names;
the mock serves every path on both. `trust_instructions` is what to tell the user.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import ConfigError

CA_DAYS = 3650
SERVER_DAYS = 90
_DOMAIN = re.compile(r"(?=.{1,240}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path


def host_names(domain: str) -> tuple[str, str]:
    """login.DOMAIN and api.DOMAIN; ConfigError for something that is not a DNS name."""
    name = domain.strip().lower().rstrip(".")
    if not _DOMAIN.fullmatch(name) or "." not in name and name != "localhost":
        raise ConfigError(f"--domain / MOCK_IDP_TLS_DOMAIN: {domain!r} is not a DNS domain "
                          "such as mock.test")
    return f"login.{name}", f"api.{name}"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _load_or_make_ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key_path, cert_path = directory / "ca-key.pem", directory / "ca.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now():
            return key, cert, cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mock Genesys Cloud local CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, cert_path


def ensure_certificates(state_dir: Path, domain: str) -> TlsFiles:
    """The CA (made once, reused) and a fresh server certificate for both host names
    (plus localhost and 127.0.0.1, for health checks) in a 0700 directory."""
    names = host_names(domain)
    directory = state_dir / "tls"
    for private in (state_dir, directory):
        private.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(private, 0o700)
    ca_key, ca_cert, ca_path = _load_or_make_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in (*names, "localhost")]
                + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = directory / "server.pem", directory / "server-key.pem"
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(ca_path, cert_path, key_path)


def trust_instructions(domain: str, ca_file: Path, port: int, address: str = "127.0.0.1") -> str:
    """The one block that tells a user how to make clients trust and find the mock."""
    login, api = host_names(domain)
    suffix = "" if port == 443 else f":{port}"
    return "\n".join([
        f"Mock IdP over HTTPS as https://{login}{suffix} and https://{api}{suffix}",
        f"  CA certificate: {ca_file}",
        "  Trust it (shell):",
        f"    export SSL_CERT_FILE={ca_file} REQUESTS_CA_BUNDLE={ca_file} NODE_EXTRA_CA_CERTS={ca_file}",
        "  Find it (hosts file line):",
        f"    {address} {login} {api}",
        "  Compose: give the idp service these network aliases:",
        f"    aliases: [{login}, {api}]",
        f"  Then: gclogin/gc environment {domain}, Python SDK host https://{api}{suffix}, "
        f"JS SDK setEnvironment('{domain}{suffix}')",
    ])
