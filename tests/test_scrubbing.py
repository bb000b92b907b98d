"""Issue 12.3: no credential reaches stderr, the --report file or a log line, whatever error
carried it: the session's actual keys and credential-shaped text are scrubbed at every sink."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, HTTPClientError
from click.testing import CliRunner, Result

from sagemaker_inventory.aws.errors import FailureReason
from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect import run as inventory
from sagemaker_inventory.collect.outcome import ScopeResult
from sagemaker_inventory.collect.process_worker import scrubbed
from sagemaker_inventory.scrubbing import remember_secret, scrub

TOKEN = "FQoGZXIvYXdzSECRETSESSIONTOKEN0123456789/abc+def=="
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def session_keys(monkeypatch: pytest.MonkeyPatch, moto_aws: None) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)


def _failing_listing(error: Exception) -> Any:
    def iter_job_summaries(*_: Any, **__: Any) -> Iterator[dict[str, Any]]:
        raise error
        yield {}

    return iter_job_summaries


def _http_layer_error() -> Exception:
    # What urllib3/http.client raise when a token breaks a header, wrapped by botocore.
    return HTTPClientError(error=ValueError(f"Invalid header value {(TOKEN + chr(10)).encode()!r}"))


def _echoing_service_error() -> Exception:
    # A service error quoting the signed request's headers (token value not known to smi).
    message = "Bad request; headers: {'X-Amz-Security-Token': 'IQoJb3JpZ2luX2VjEOTHERTOKEN/xyz='}"
    return ClientError({"Error": {"Code": "BadRequest", "Message": message}}, "ListTrainingJobs")


@pytest.mark.usefixtures("session_keys")
@pytest.mark.parametrize("make_error", [_http_layer_error, _echoing_service_error])
def test_credentials_in_errors_reach_neither_stderr_nor_the_report(
    make_error: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a session token that broke the HTTP layer appeared verbatim on stderr and in
    the --report file; so did a service error echoing x-amz-security-token."""
    monkeypatch.setattr(inventory, "iter_job_summaries", _failing_listing(make_error()))
    report = tmp_path / "run.json"
    result = run("collect", "-r", "us-east-1", "--report", str(report), "-v")
    assert result.exit_code == 1
    written = result.stderr + report.read_text()
    for secret in (TOKEN, TOKEN[:20], "SECRETSESSIONTOKEN", "IQoJb3JpZ2luX2VjEOTHERTOKEN"):
        assert secret not in written
    assert "<redacted>" in written
    error = json.loads(report.read_text())["scopes"][0]["error"]
    assert error["code"] in {"HTTPClientError", "BadRequest"}


def test_scrub_masks_remembered_values_in_their_escaped_forms_too() -> None:
    remember_secret("s3cr3t-value-0123\nsecond-half-4567")
    text = "a {!r} b {} c".format("s3cr3t-value-0123\nsecond-half-4567", "second-half-4567")
    assert scrub(text) == "a '<redacted>' b <redacted> c"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Credential=AKIAABCDEFGHIJKLMNOP/20260101/us-east-1", "Credential=<redacted>/20260101"),
        ("x-amz-security-token: abcdefgh", "x-amz-security-token: <redacted>"),
        ("...&X-Amz-Signature=0123abcd&x=1", "X-Amz-Signature=<redacted>&x=1"),
        ("aws_secret_access_key = zzzzzzzz", "aws_secret_access_key = <redacted>"),
    ],
)
def test_scrub_masks_credential_shaped_text(text: str, kept: str) -> None:
    assert kept in scrub(text)


def test_ordinary_messages_are_unchanged() -> None:
    text = "smi: failed 111122223333 us-east-1: AccessDeniedException: not authorized"
    assert scrub(text) == text


def test_a_worker_scrubs_its_sessions_keys_before_the_parent_sees_them() -> None:
    """Regression: with --processes, a worker's AssumeRole keys reached the parent unscrubbed."""
    remember_secret("worker-only-secret-0123456789")
    result = ScopeResult("123456789012", "us-east-1", status="failed")
    result.error = FailureReason("Boom", "header: worker-only-secret-0123456789")
    error = scrubbed(result).error
    assert error is not None and "worker-only-secret" not in error.message


def test_the_keys_of_a_thousand_accounts_are_each_masked_and_the_longest_wins() -> None:
    """Regression: every remembered value recompiled one alternation of all the values seen, a
    compile per account whose role was assumed (minutes over a large organization)."""
    keys = [f"ASIAORGKEY{n:010d}" for n in range(1000)]
    for key in keys:
        remember_secret(key)
    remember_secret(keys[7] + "-and-more")  # another value that starts like one already known
    text = f"a {keys[0]} b {keys[999]}/{keys[500]}, {keys[7]}-and-more, {keys[7]}-and-less"
    assert scrub(text) == "a <redacted> b <redacted>/<redacted>, <redacted>, <redacted>-and-less"
