"""`smi report --checks`: every rule on tests/data/checks.jsonl, by hand, then the CLI contract.

The fixture, job by job (P pass, F fail, - not applicable), checks in the order
isolation / inter-container / volume / output / vpc / secrets:

  all-good        P P P P P P  m5 x2, every setting on; TOKENIZER_NAME, max_tokens are not secrets
  empty-settings  F - F F F F  m5 x1; isolation false; volume and output keys ""; subnets [];
                               DB_PASSWORD (already redacted) and hf_token
  mixed-groups    P F F P P F  groups p4d x2 + c5 x1 (3 instances; c5 has EBS); WANDB_API_KEY
  local-groups    P F - P P P  groups g5 x1 + p4d x1: all local NVMe, encryption flag absent
  bare            F - F F F P  nothing but the name: instance count unknown
  local-single    P - - P P P  g5.2xlarge x1
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from sagemaker_inventory.cli import cli
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.records.redaction import is_secret_key
from sagemaker_inventory.report.checks import (
    CHECK_IDS,
    NOT_APPLICABLE,
    PASSED,
    assess,
    check_inter_container_encryption,
    check_volume_encryption,
    has_local_storage,
)
from sagemaker_inventory.report.checks_view import render_checks
from sagemaker_inventory.report.inputs import read_records

FIXTURE = Path(__file__).parent / "data" / "checks.jsonl"
EXPECTED = {
    "all-good": "PPPPPP",
    "empty-settings": "F-FFFF",
    "mixed-groups": "PFFPPF",
    "local-groups": "PF-PPP",
    "bare": "F-FFFP",
    "local-single": "P--PPP",
}


def records() -> list[dict[str, Any]]:
    with FIXTURE.open("rb") as stream:
        return list(read_records(stream, str(FIXTURE)))


def smi(*args: str) -> Result:
    return CliRunner().invoke(cli, ["report", *args], env={"COLUMNS": "80"})


def test_every_rule_on_the_fixture() -> None:
    posture = assess(records())
    failing = {(f.training_job_name, f.check) for f in posture.findings}
    for name, verdicts in EXPECTED.items():
        for check_id, verdict in zip(CHECK_IDS, verdicts, strict=True):
            assert ((name, check_id) in failing) == (verdict == "F"), (name, check_id)
    for index, check_id in enumerate(CHECK_IDS):
        column = [v[index] for v in EXPECTED.values()]
        count = posture.counts[check_id]
        assert (count.passed, count.failed, count.not_applicable) == (
            column.count("P"),
            column.count("F"),
            column.count("-"),
        ), check_id


def test_details_name_the_setting_and_what_is_wrong() -> None:
    details = {(f.training_job_name, f.check): f.detail for f in assess(records()).findings}
    assert details["empty-settings", "volume_encryption"] == (
        "resource_config.volume_kms_key_id is empty"
    )
    assert details["bare", "volume_encryption"] == "resource_config.volume_kms_key_id is absent"
    assert details["empty-settings", "vpc"] == "vpc_config.subnets is empty"
    assert details["empty-settings", "network_isolation"] == "enable_network_isolation is false"
    assert details["mixed-groups", "inter_container_encryption"] == (
        "3 instances; enable_inter_container_traffic_encryption is false"
    )
    secrets = details["empty-settings", "secrets_in_environment"]
    assert "environment keys DB_PASSWORD;" in secrets
    assert "hyper_parameters keys hf_token" in secrets
    assert "LOG_LEVEL" not in secrets
    assert "hf_abc" not in secrets  # the value is never repeated


def test_findings_carry_job_account_and_region() -> None:
    finding = next(f for f in assess(records()).findings if f.training_job_name == "mixed-groups")
    assert finding.as_dict() == {
        "check": "inter_container_encryption",
        "training_job_name": "mixed-groups",
        "training_job_arn": "arn:aws:sagemaker:eu-west-1:222222222222:training-job/mixed-groups",
        "account_id": "222222222222",
        "region": "eu-west-1",
        "detail": "3 instances; enable_inter_container_traffic_encryption is false",
    }


@pytest.mark.parametrize(
    ("instance_type", "local"),
    [
        ("ml.g4dn.xlarge", True),
        ("ml.g5.2xlarge", True),
        ("ml.g6e.12xlarge", True),
        ("ml.p3dn.24xlarge", True),
        ("ml.p4d.24xlarge", True),
        ("ml.p4de.24xlarge", True),
        ("ml.p5.48xlarge", True),
        ("ml.p6-b200.48xlarge", True),
        ("ml.p6e-gb200.36xlarge", True),
        ("ml.trn1.32xlarge", True),
        ("ml.r5d.large", True),
        ("ml.m5.xlarge", False),
        ("ml.c5n.xlarge", False),
        ("ml.p3.2xlarge", False),
        ("ml.p2.xlarge", False),
        ("ml.t3.medium", False),
        ("ml.c6i.xlarge", False),
        ("not-a-type", False),
    ],
)
def test_local_storage_families(instance_type: str, local: bool) -> None:
    assert has_local_storage(instance_type) is local


def test_single_instance_and_unknown_count_are_not_applicable() -> None:
    one = {"resource_config": {"instance_type": "ml.m5.xlarge", "instance_count": 1}}
    assert check_inter_container_encryption(one) is NOT_APPLICABLE
    assert check_inter_container_encryption({}) is NOT_APPLICABLE
    two = {
        "resource_config": {"instance_type": "ml.m5.xlarge", "instance_count": 2},
        "enable_inter_container_traffic_encryption": True,
    }
    assert check_inter_container_encryption(two) is PASSED


def test_volume_key_on_a_local_storage_type_is_not_applicable_even_when_absent() -> None:
    record = {"resource_config": {"instance_type": "ml.p4d.24xlarge", "instance_count": 1}}
    assert check_volume_encryption(record) is NOT_APPLICABLE


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("DB_PASSWORD", True),
        ("WANDB_API_KEY", True),
        ("hf_token", True),
        ("HFToken", True),
        ("tokenizer_name", False),
        ("max_tokens", False),
        ("learning_rate", False),
    ],
)
def test_is_secret_key_is_the_redaction_rule(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_is_secret_key_takes_extra_patterns() -> None:
    assert not is_secret_key("MY_SPECIAL")
    assert is_secret_key("MY_SPECIAL", ["special"])


def test_grouped_failures_per_account() -> None:
    posture = assess(records(), by=["account_id"])
    groups = {key: group.as_dict() for key, group in posture.ordered_groups()}
    # 111: all-good (0), empty-settings (5), local-single (0); 222: mixed (3), local (1), bare (4).
    assert groups[("222222222222",)]["findings"] == 8
    assert groups[("222222222222",)]["jobs_with_findings"] == 3
    assert groups[("111111111111",)]["findings"] == 5
    assert groups[("111111111111",)]["failed"]["secrets_in_environment"] == 1
    assert list(groups) == [("222222222222",), ("111111111111",)]


def test_table_lists_checks_then_findings_by_check_within_80_columns() -> None:
    stream = io.StringIO()
    render_checks(assess(records(), by=["tag:team"]), Console(file=stream, width=80))
    text = stream.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "inter_container_encryption" in text
    assert "Failed checks by tag:team" in text
    assert "volume_encryption: 3 failing" in text
    assert "empty-settings" in text
    assert "eu-west-1" in text


def test_cli_json_is_the_documented_shape() -> None:
    result = smi(str(FIXTURE), "--checks", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["checks", "findings"]
    assert [c["id"] for c in document["checks"]] == list(CHECK_IDS)
    assert set(document["checks"][0]) == {
        "id",
        "title",
        "severity",
        "passed",
        "failed",
        "not_applicable",
    }
    assert len(document["findings"]) == sum(v.count("F") for v in EXPECTED.values())


def test_cli_jsonl_is_one_finding_per_line() -> None:
    result = smi(str(FIXTURE), "--checks", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == sum(v.count("F") for v in EXPECTED.values()) == 13
    assert {line["check"] for line in lines} == set(CHECK_IDS)


def test_cli_checks_with_by_groups_failures() -> None:
    result = smi(str(FIXTURE), "--checks", "--by", "tag:team", "--format", "json")
    document = json.loads(result.stdout)
    assert document["by"] == ["tag:team"]
    # vision: empty-settings 5; nlp: 3 + 1; no tag: bare 4 (ties: by key, no value last).
    keys = [(g["key"]["tag:team"], g["findings"]) for g in document["groups"]]
    assert keys == [("vision", 5), ("nlp", 4), (None, 4)]


def test_fail_on_findings_exits_with_the_documented_code() -> None:
    result = smi(str(FIXTURE), "--checks", "--format", "jsonl", "--fail-on-findings")
    assert result.exit_code == ExitCode.FINDINGS == 6
    assert result.stdout  # the findings are still printed


def test_fail_on_findings_exits_0_when_every_job_passes(tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    clean.write_text(FIXTURE.read_text().splitlines()[0] + "\n")
    result = smi(str(clean), "--checks", "--fail-on-findings", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checks", "--failures"], "--checks cannot be combined"),
        (["--fail-on-findings"], "--fail-on-findings needs --checks"),
        (["--format", "jsonl"], "--format jsonl is for --checks"),
    ],
)
def test_checks_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = smi(str(FIXTURE), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("by", [[], ["account_id"]])
def test_streamed_json_is_the_document(by: list[str]) -> None:
    # Regression: --checks built the whole document and a dict per finding twice (memory grew
    # with the inventory); write_json streams the findings and must say exactly what as_dict() says.
    posture = assess(records(), by=by)
    stream = io.StringIO()
    posture.write_json(stream)
    assert json.loads(stream.getvalue()) == posture.as_dict()
    empty = assess([], by=by)
    stream = io.StringIO()
    empty.write_json(stream)
    assert json.loads(stream.getvalue()) == empty.as_dict()
