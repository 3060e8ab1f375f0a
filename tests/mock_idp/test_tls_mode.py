"""`--tls --domain`: a local CA (kept), a certificate for login./api.DOMAIN, and the
Python SDK finding and trusting the mock by those names, with the names resolved in a
private mount namespace (a bind-mounted hosts file), never the machine's /etc/hosts."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from devtools.servers import REPO, stop_process
from mock_idp import ConfigError
from mock_idp.tls import ensure_certificates, host_names, trust_instructions

from .conftest import CC

DOMAIN = "mock.test"


def test_the_ca_is_kept_across_restarts_and_its_key_is_private(tmp_path):
    first = ensure_certificates(tmp_path / "state", DOMAIN)
    ca = first.ca_cert.read_bytes()
    again = ensure_certificates(tmp_path / "state", DOMAIN)
    assert again.ca_cert.read_bytes() == ca
    for key in (first.ca_cert.with_name("ca-key.pem"), again.key):
        assert key.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state" / "tls").stat().st_mode & 0o777 == 0o700
    cert = x509.load_pem_x509_certificate(again.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"login.mock.test", "api.mock.test"} <= set(names.get_values_for_type(x509.DNSName))
    assert cert.issuer == x509.load_pem_x509_certificate(ca).subject


@pytest.mark.parametrize("bad", ["", "bad domain", "-x.test", "a/b"])
def test_a_bad_domain_is_refused(bad):
    with pytest.raises(ConfigError, match="not a DNS domain"):
        host_names(bad)


def test_the_instructions_name_the_ca_and_the_lines_clients_need(tmp_path):
    text = trust_instructions(DOMAIN, tmp_path / "ca.pem", 8443)
    for needed in ("SSL_CERT_FILE=", "REQUESTS_CA_BUNDLE=", "NODE_EXTRA_CA_CERTS=",
                   "127.0.0.1 login.mock.test api.mock.test", "aliases: [login.mock.test, api.mock.test]",
                   "https://api.mock.test:8443", str(tmp_path / "ca.pem")):
        assert needed in text


SDK_CHECK = """
import sys, PureCloudPlatformClientV2 as genesys
client = genesys.ApiClient(host=sys.argv[1]).get_client_credentials_token(sys.argv[2], sys.stdin.readline().strip())
print(genesys.TokensApi(client).get_tokens_me().o_auth_client.id)
"""


@pytest.mark.slow
def test_python_sdk_over_https_by_the_genesys_names(tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("this test resolves login./api.mock.test in a private mount namespace: it "
                    "needs root and unshare (as in CI)", pytrace=False)
    proc = subprocess.Popen([sys.executable, "-m", "mock_idp", "--tls", "--domain", DOMAIN, "--port", "0",
                             "--state-dir", str(tmp_path / "state")], cwd=REPO, text=True,
                            env={**os.environ, "MOCK_IDP_DB": str(tmp_path / "idp.sqlite3")},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert proc.stdout is not None
        printed = "".join(proc.stdout.readline() for _ in range(3))  # listening, names, CA
        port_found = re.search(r"https://127\.0\.0\.1:(\d+)", printed)
        ca_found = re.search(r"CA certificate: (\S+)", printed)
        assert port_found and ca_found, printed
        port, ca = int(port_found[1]), Path(ca_found[1])
        hosts = tmp_path / "hosts"
        hosts.write_text("127.0.0.1 localhost login.mock.test api.mock.test\n")
        done = subprocess.run(
            ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
             str(hosts), sys.executable, "-c", SDK_CHECK, f"https://api.{DOMAIN}:{port}", CC.id],
            input=CC.secret + "\n", capture_output=True, text=True, timeout=60, cwd=tmp_path,
            env={**os.environ, "SSL_CERT_FILE": str(ca), "REQUESTS_CA_BUNDLE": str(ca)})
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == CC.id
        assert "mock.test" not in Path("/etc/hosts").read_text()  # the machine's file untouched
    finally:
        stop_process(proc)
