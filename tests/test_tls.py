"""Issue 19.5: the HTTPS path as real AWS is reached, on loopback.

moto's API is served over TLS with a certificate of a test CA; `smi collect --endpoint-url
https://127.0.0.1:PORT` then runs end to end: trusting that CA through AWS_CA_BUNDLE it writes
the records; without it the certificate is refused and the scope fails with a message about it
(no traceback); through HTTPS_PROXY the records travel a CONNECT tunnel the proxy saw."""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs
from tls_loopback import (
    LoopbackCertificates,
    connect_proxy,
    make_certificates,
    moto_over_tls,
)

from sagemaker_inventory.cli import cli
from sagemaker_inventory.exit_codes import ExitCode

REGION = "us-east-1"
JOBS = ["tls-a", "tls-b"]
# Variables that would change where a request goes or what it trusts, from the caller's shell.
TRANSPORT_VARIABLES = (
    "AWS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def endpoint(certificates: LoopbackCertificates, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto over TLS with two training jobs, and a shell that sets no CA bundle or proxy."""
    for name in TRANSPORT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with moto_over_tls(certificates) as url:
        # moto's backends are per process: other tests of this worker (moto servers of their
        # own) may have left jobs in the same account and region.
        reset_moto(url, certificates)
        seed(url, certificates)
        yield url
        reset_moto(url, certificates)


def reset_moto(url: str, certificates: LoopbackCertificates) -> None:
    context = ssl.create_default_context(cafile=str(certificates.ca))
    # Straight to the server, whatever proxy the test has set in the environment.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with opener.open(request, timeout=10) as answer:
        answer.read()


def seed(url: str, certificates: LoopbackCertificates) -> None:
    client = boto3.client(
        "sagemaker", region_name=REGION, endpoint_url=url, verify=str(certificates.ca)
    )
    create_jobs(REGION, JOBS, client=client)


def collect(endpoint: str, output: Path) -> Result:
    return CliRunner().invoke(
        cli, ["collect", "-r", REGION, "--endpoint-url", endpoint, "-q", "-o", str(output)]
    )


def names(output: Path) -> list[str]:
    return sorted(json.loads(line)["training_job_name"] for line in output.read_text().splitlines())


def test_the_test_ca_given_in_aws_ca_bundle_is_trusted(
    endpoint: str,
    certificates: LoopbackCertificates,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificates.ca))
    result = collect(endpoint, tmp_path / "out.jsonl")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert names(tmp_path / "out.jsonl") == JOBS


def test_a_certificate_of_an_untrusted_ca_is_refused(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No retry (the AWS CLI's own setting): botocore counts a failed handshake as transient and
    # would try again, and the answer cannot change.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    output = tmp_path / "out.jsonl"
    result = collect(endpoint, output)
    assert result.exit_code == ExitCode.NOTHING_COLLECTED, result.stderr
    assert "certificate verify failed" in result.stderr
    assert f"failed (account unknown) {REGION}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)
    assert not output.exists() or output.read_text() == ""


def test_https_proxy_tunnels_every_call_with_connect(
    endpoint: str,
    certificates: LoopbackCertificates,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificates.ca))
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        result = collect(endpoint, tmp_path / "out.jsonl")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert names(tmp_path / "out.jsonl") == JOBS
    assert set(proxy.tunnelled) == {endpoint.removeprefix("https://")}
