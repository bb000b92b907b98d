"""Retry settings as the AWS CLI takes them (issue 19 part 2): AWS_RETRY_MODE / AWS_MAX_ATTEMPTS,
else the profile's retry_mode / max_attempts, else smi's defaults; what is in use goes to
--report; a value botocore would refuse is exit 2 naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sagemaker_inventory.aws.retry_settings import DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_MODE
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect.scopes import AccountSource


def profile_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: str) -> None:
    config = tmp_path / "config"
    config.write_text(f"[default]\nregion = us-east-1\n{lines}\n[profile other]\n{lines}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


def client_retries(factory: SessionFactory, profile: str | None = None) -> dict[str, Any]:
    client = factory.client(factory.session(profile), "sagemaker", "us-east-1")
    retries: dict[str, Any] = client.meta.config.retries
    return retries


def test_smis_defaults_apply_where_the_user_set_nothing() -> None:
    factory = SessionFactory()
    retries = client_retries(factory)
    assert retries == {"mode": DEFAULT_RETRY_MODE, "total_max_attempts": DEFAULT_MAX_ATTEMPTS}
    assert factory.settings_report()["retry"] == {
        "mode": "standard",
        "max_attempts": 10,
        "source": {"mode": "default", "max_attempts": "default"},
    }


def test_the_environment_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")
    factory = SessionFactory()
    assert client_retries(factory) == {"mode": "adaptive", "total_max_attempts": 4}
    report = factory.settings_report()["retry"]
    assert report["source"] == {"mode": "environment", "max_attempts": "environment"}


@pytest.mark.parametrize("profile", [None, "other"])
def test_a_profiles_settings_are_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str | None
) -> None:
    profile_config(tmp_path, monkeypatch, "retry_mode = legacy\nmax_attempts = 3")
    factory = SessionFactory()
    assert client_retries(factory, profile) == {"mode": "legacy", "total_max_attempts": 3}
    assert factory.settings_report()["retry"] == {
        "mode": "legacy",
        "max_attempts": 3,
        "source": {"mode": "profile", "max_attempts": "profile"},
    }


def test_the_environment_wins_over_the_profile_and_each_setting_stands_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile_config(tmp_path, monkeypatch, "retry_mode = legacy\nmax_attempts = 3")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    factory = SessionFactory()
    assert client_retries(factory) == {"mode": "standard", "total_max_attempts": 3}
    source = factory.settings_report()["retry"]["source"]
    assert source == {"mode": "environment", "max_attempts": "profile"}


def test_role_sessions_retry_as_their_base_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = "aws_access_key_id = base\naws_secret_access_key = base-secret"
    profile_config(tmp_path, monkeypatch, f"max_attempts = 5\n{keys}")
    factory = SessionFactory()
    role = AccountSource(role_arn="arn:aws:iam::111111111111:role/R", base_profile="other")
    client = factory.client(factory.session_for(role), "sagemaker", "us-east-1")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 5}


def test_profiles_with_different_settings_are_reported_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\n[profile slow]\nretry_mode = adaptive\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    factory = SessionFactory()
    factory.session(None)
    factory.session("slow")
    retry = factory.settings_report()["retry"]
    assert [(r["profile"], r["mode"]) for r in retry] == [(None, "standard"), ("slow", "adaptive")]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AWS_RETRY_MODE", "fast"), ("AWS_MAX_ATTEMPTS", "many"), ("AWS_MAX_ATTEMPTS", "0")],
)
def test_a_bad_variable_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1"])
    assert result.exit_code == 2
    assert f"{variable}={value!r}" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_profile_setting_is_a_usage_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile_config(tmp_path, monkeypatch, "max_attempts = -2")
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1", "--profile", "other"])
    assert result.exit_code == 2
    assert "max_attempts of profile 'other'='-2'" in result.stderr


@pytest.mark.usefixtures("moto_aws")
def test_the_report_records_the_settings_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    report = tmp_path / "run.json"
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1", "--report", str(report)])
    assert result.exit_code == 0, result.stderr
    document = json.loads(report.read_text())
    assert document["retry"] == {
        "mode": "legacy",
        "max_attempts": 10,
        "source": {"mode": "environment", "max_attempts": "default"},
    }
    assert document["timeouts"] == {"connect_seconds": 10.0, "read_seconds": 60.0}
