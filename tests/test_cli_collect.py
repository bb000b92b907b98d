"""`smi collect` end to end through click against in-process moto: formats, files, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs, delete_job, set_job
from jsonschema import Draft202012Validator

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.cli import cli
from sagemaker_inventory.records.schema import record_schema

pytestmark = pytest.mark.usefixtures("moto_aws")


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def jsonl(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def two_regions(moto_aws: None) -> None:
    create_jobs("us-east-1", ["east-a", "east-b"], tags={"team": "vision"})
    set_job("us-east-1", "east-b", status="Failed")
    create_jobs("eu-west-1", ["west-a"])


@pytest.mark.usefixtures("two_regions")
def test_jsonl_is_the_default_when_piped_and_every_record_validates() -> None:
    result = run("collect", "-r", "us-east-1,eu-west-1")
    assert result.exit_code == 0, result.stderr
    records = jsonl(result)
    assert sorted(r["training_job_name"] for r in records) == ["east-a", "east-b", "west-a"]
    validator = Draft202012Validator(
        record_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for record in records:
        validator.validate(record)
    assert "3 jobs from 2/2" in result.stderr


@pytest.mark.usefixtures("two_regions")
def test_json_csv_and_table_formats() -> None:
    as_json = run("collect", "-r", "us-east-1", "--format", "json")
    assert [r["training_job_name"] for r in json.loads(as_json.stdout)] == ["east-a", "east-b"]

    as_csv = run(
        "collect",
        "-r",
        "us-east-1",
        "-f",
        "csv",
        "--columns",
        "training_job_name,resource_config.instance_type,tags",
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows == [
        {
            "training_job_name": "east-a",
            "resource_config.instance_type": "ml.m5.large",
            "tags": '["team:vision"]',
        },
        {
            "training_job_name": "east-b",
            "resource_config.instance_type": "ml.m5.large",
            "tags": '["team:vision"]',
        },
    ]

    table = run("collect", "-r", "us-east-1", "--format", "table")
    assert table.exit_code == 0
    for text in ("east-a", "east-b", "Failed", "ml.m5.large x 1", "2 jobs"):
        assert text in table.stdout


@pytest.mark.usefixtures("two_regions")
def test_filters_reach_the_api() -> None:
    failed = jsonl(run("collect", "-r", "us-east-1", "--status", "failed"))
    assert [r["training_job_name"] for r in failed] == ["east-b"]
    named = jsonl(run("collect", "-r", "us-east-1,eu-west-1", "--name-contains", "west"))
    assert [r["training_job_name"] for r in named] == ["west-a"]
    future = jsonl(run("collect", "-r", "us-east-1", "--created-after", "2099-01-01"))
    assert future == []
    recent = jsonl(
        run("collect", "-r", "us-east-1", "--created-after", "1d", "--modified-after", "1d")
    )
    assert len(recent) == 2


@pytest.mark.usefixtures("two_regions")
def test_no_tags_and_the_profile_region_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    records = jsonl(run("collect", "--no-tags"))
    assert [(r["training_job_name"], r["tags"]) for r in records] == [("west-a", [])]


@pytest.mark.usefixtures("two_regions")
def test_output_file_is_written_atomically_with_the_suffix_format(tmp_path: Path) -> None:
    target = tmp_path / "inventory.csv"
    result = run("collect", "-r", "us-east-1", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text().startswith("account_id,")
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["inventory.csv"]


def test_a_failed_run_leaves_the_previous_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    target = tmp_path / "inventory.jsonl"
    target.write_text("good\n")
    result = run("collect", "-r", "us-east-1", "-o", str(target))
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.stderr and "aws configure" in result.stderr
    assert target.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["inventory.jsonl"]


def deny_region(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    """Clients in `region` answer AccessDenied to ListTrainingJobs."""
    original = SessionFactory.client

    def client(self: SessionFactory, session: Any, service: str, name: str) -> Any:
        built = original(self, session, service, name)
        if name == region and service == "sagemaker":
            from botocore.awsrequest import AWSResponse

            def deny(**_: Any) -> Any:
                error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
                return AWSResponse("https://x.invalid", 400, {}, None), error

            built.meta.events.register("before-call.sagemaker.ListTrainingJobs", deny)
        return built

    monkeypatch.setattr(SessionFactory, "client", client)


@pytest.mark.usefixtures("two_regions")
def test_partial_failure_is_exit_3_with_the_others_records(monkeypatch: pytest.MonkeyPatch) -> None:
    deny_region(monkeypatch, "eu-west-1")
    result = run("collect", "-r", "us-east-1,eu-west-1")
    assert result.exit_code == 3
    assert sorted(r["training_job_name"] for r in jsonl(result)) == ["east-a", "east-b"]
    assert "eu-west-1" in result.stderr and "AccessDeniedException" in result.stderr
    assert "not authorized" in result.stderr


@pytest.mark.usefixtures("two_regions")
def test_a_vanished_job_is_a_warning_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    original = SessionFactory.client

    def client(self: SessionFactory, session: Any, service: str, region: str) -> Any:
        built = original(self, session, service, region)

        def vanish(params: dict[str, Any], **_: Any) -> None:
            if params.get("TrainingJobName") == "east-b":
                delete_job("us-east-1", "east-b")

        built.meta.events.register("before-parameter-build.sagemaker.DescribeTrainingJob", vanish)
        return built

    monkeypatch.setattr(SessionFactory, "client", client)
    result = run("collect", "-r", "us-east-1")
    assert result.exit_code == 0
    assert [r["training_job_name"] for r in jsonl(result)] == ["east-a"]
    assert "skipped east-b" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["-r", "us-east-9"], "us-east-9"),
        (["-r", "us-east-1", "--created-after", "last tuesday"], "last tuesday"),
        (["-r", "us-east-1", "--modified-after", "7y"], "7y"),
        (["-r", "us-east-1", "--format", "yaml"], "yaml"),
        (["-r", "us-east-1", "--columns", "training_job_name,nope.field"], "nope.field"),
        (["-r", "us-east-1", "-o", "/nonexistent-dir/x.jsonl"], "/nonexistent-dir"),
        (["-r", "us-east-1", "--status", "Running"], "Running"),
        (["--profile", "ghost", "-r", "us-east-1"], "ghost"),
        ([], "no region"),
        (["-r", "us-east-1", "--all-regions"], "--all-regions"),
        (["--demo", "--profile", "x"], "--demo"),
    ],
)
def test_bad_input_is_exit_2_naming_the_value(args: list[str], named: str) -> None:
    result = run("collect", *args)
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_statuses_match_botocore() -> None:
    import botocore.session

    from sagemaker_inventory.cli.collect_options import TRAINING_JOB_STATUSES

    model = botocore.session.get_session().get_service_model("sagemaker")
    assert tuple(model.shape_for("TrainingJobStatus").enum) == TRAINING_JOB_STATUSES


def test_schema_command_prints_the_record_schema() -> None:
    result = run("schema")
    assert json.loads(result.stdout) == record_schema()
    Draft202012Validator.check_schema(json.loads(result.stdout))
    assert json.loads(run("schema", "--all-fields").stdout) == record_schema(all_fields=True)


def test_a_malformed_aws_config_file_is_exit_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("this is [not an ini file\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    result = run("collect", "-r", "us-east-1")
    assert result.exit_code == 2
    assert str(config) in result.stderr and result.stdout == ""
    assert "Traceback" not in result.output
