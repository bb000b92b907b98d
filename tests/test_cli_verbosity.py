"""-q prints only errors, -v scope lines, -vv a line per request; no secret ever reaches stderr."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs
from test_cli_collect import deny_region

from sagemaker_inventory.cli import cli
from sagemaker_inventory.cli.common import SecretFilter

pytestmark = pytest.mark.usefixtures("moto_aws")

ACCESS_KEY = "AKIAFAKEKEY000000042"
SECRET_KEY = "fakeSecretKeyThatMustNeverBeLogged0000000"
TOKEN = "FakeSessionTokenThatMustNeverBeLogged"


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch, moto_aws: None) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    create_jobs("us-east-1", ["a", "b"], tags={"team": "x"})
    create_jobs("eu-west-1", ["c"])


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["collect", "-r", "us-east-1,eu-west-1", *args])


def assert_no_secrets(text: str) -> None:
    for secret in (ACCESS_KEY, SECRET_KEY, TOKEN, "Signature=", "X-Amz-Security-Token"):
        assert secret not in text


@pytest.mark.usefixtures("jobs")
def test_default_prints_the_total_and_no_logs() -> None:
    result = run()
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1].startswith("smi: 3 jobs from 2/2")
    assert "collecting" not in result.stderr


@pytest.mark.usefixtures("jobs")
def test_quiet_prints_nothing_when_all_is_well() -> None:
    result = run("-q")
    assert result.exit_code == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == 3


@pytest.mark.usefixtures("jobs")
def test_quiet_still_prints_the_scopes_that_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    deny_region(monkeypatch, "eu-west-1")
    result = run("-q")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "smi: failed 123456789012 eu-west-1: AccessDeniedException: not authorized"
    ]


@pytest.mark.usefixtures("jobs")
def test_verbose_adds_scope_lines_and_very_verbose_request_lines() -> None:
    scopes = run("-v").stderr
    # STS names the account beside the first scopes: they start before it answers.
    assert "smi: us-east-1: collecting (default credentials)" in scopes
    assert "smi: 123456789012 eu-west-1: ok, 1 jobs" in scopes
    assert "request DescribeTrainingJob" not in scopes
    requests = run("-vv").stderr
    assert "smi: request DescribeTrainingJob to api.sagemaker.us-east-1.amazonaws.com" in requests
    assert "smi: request GetResources to tagging.eu-west-1.amazonaws.com" in requests
    assert_no_secrets(scopes + requests)


def test_the_log_filter_masks_anything_shaped_like_a_credential() -> None:
    record = logging.LogRecord(
        "sagemaker_inventory",
        logging.INFO,
        __file__,
        1,
        "failed with %s and Signature=abc123 and X-Amz-Security-Token: tok",
        (ACCESS_KEY,),
        None,
    )
    assert SecretFilter().filter(record)
    message = record.getMessage()
    assert ACCESS_KEY not in message and "abc123" not in message and "tok" not in message
    assert message.count("<redacted>") == 3
