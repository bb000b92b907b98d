"""`smi report` end to end through the `smi` group: options, stdin, JSON, exit 2 on bad input.

Expected figures are derived by hand in tests/report_small.py (same fixture).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from report_small import REPORT_SMALL

from sagemaker_inventory.cli import cli

GOOD_LINE = (
    '{"training_job_name": "a", "training_job_arn": "arn:aws:sagemaker:r:1:training-job/a"}\n'
)


def smi(*args: str, stdin: str | bytes | None = None, columns: int = 120) -> Result:
    runner = CliRunner()
    return runner.invoke(cli, ["report", *args], input=stdin, env={"COLUMNS": str(columns)})


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_by_instance_type_is_the_documented_shape() -> None:
    # p4d a+e+g + d's 2 instances: 10200 s (2.8333 h) / 9000 s (2.5), spot d 50 %; g5 b+c+f+h +
    # d's 1 instance: 12300 s (3.4167) / 6100 s (1.6944), spot b+h+d 1-2500/8700 = 71.26 %.
    document = ok_json(smi(str(REPORT_SMALL), "--by", "instance_type", "--format", "json"))

    assert document == {
        "by": ["instance_type"],
        "groups": [
            {
                "key": {"instance_type": "ml.p4d.24xlarge"},
                "jobs": 4,
                "instance_hours": 2.8333,
                "billable_instance_hours": 2.5,
                "spot_savings_percent": 50.0,
                "failed": 1,
            },
            {
                "key": {"instance_type": "ml.g5.xlarge"},
                "jobs": 5,
                "instance_hours": 3.4167,
                "billable_instance_hours": 1.6944,
                "spot_savings_percent": 71.26,
                "failed": 3,
            },
        ],
        "totals": {
            "jobs": 8,
            "instance_hours": 6.25,
            "billable_instance_hours": 4.1944,
            "spot_savings_percent": 71.26,
            "failed": 3,
        },
    }


def test_json_is_the_default_when_stdout_is_not_a_terminal() -> None:
    document = ok_json(smi(str(REPORT_SMALL)))
    assert document["by"] == ["status"]
    assert [g["key"]["status"] for g in document["groups"]] == [
        "Completed",
        "Failed",
        "Stopped",
        "InProgress",
    ]


def test_two_level_grouping_with_a_tag_key_containing_colons() -> None:
    # stack-1: a (111, Completed) and d (222, Failed); every other job lacks the tag -> null.
    document = ok_json(
        smi(str(REPORT_SMALL), "--by", "tag:aws:cloudformation:stack-name", "--by", "account_id")
    )
    keys = [(g["key"], g["jobs"], g["billable_instance_hours"]) for g in document["groups"]]
    assert keys == [
        # a: 7200 s billable; 111 untagged b+e+f: 1800+600 = 2400 s; 222 untagged c+g+h:
        # 3600+100 = 3700 s; d: 1800 s.
        ({"tag:aws:cloudformation:stack-name": "stack-1", "account_id": "111111111111"}, 1, 2.0),
        ({"tag:aws:cloudformation:stack-name": None, "account_id": "222222222222"}, 3, 1.0278),
        ({"tag:aws:cloudformation:stack-name": None, "account_id": "111111111111"}, 3, 0.6667),
        ({"tag:aws:cloudformation:stack-name": "stack-1", "account_id": "222222222222"}, 1, 0.5),
    ]


@pytest.mark.parametrize("args", [["-"], []])
def test_reads_stdin_with_dash_or_no_file(args: list[str]) -> None:
    document = ok_json(smi(*args, "--by", "region", stdin=REPORT_SMALL.read_bytes()))
    assert [(g["key"]["region"], g["instance_hours"]) for g in document["groups"]] == [
        ("us-east-1", 5.0),
        ("eu-west-1", 1.25),
    ]


def test_failures_json_groups_folded_reasons_newest_first() -> None:
    document = ok_json(smi(str(REPORT_SMALL), "--failures"))
    assert [(g["pattern"], g["jobs"], g["job_names"]) for g in document["failures"]] == [
        ("ClientError: Data download failed: <uri> [bt] not found", 1, ["job-h[/red]"]),
        (None, 1, ["job-e"]),
        ("AlgorithmError: job job-<n> ran out of memory at step <n>", 2, ["job-d", "job-c"]),
    ]


def test_running_json_uses_the_injected_now() -> None:
    document = ok_json(smi(str(REPORT_SMALL), "--running", "--now", "2026-03-01T13:00:00Z"))
    assert document["now"] == "2026-03-01T13:00:00Z"
    assert document["near_limit_fraction"] == 0.8
    assert [
        (job["training_job_name"], job["training_seconds"], job["near_limit"])
        for job in document["running"]
    ] == [("job-f", 3000, True), ("job-g", None, False)]


def test_table_format_renders_rich_tables() -> None:
    result = smi(str(REPORT_SMALL), "--by", "month", "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert "Training jobs by month" in result.stdout
    assert "2026-02" in result.stdout
    assert "█" in result.stdout


def test_failures_table_keeps_markup_like_text() -> None:
    result = smi(str(REPORT_SMALL), "--failures", "--format", "table", columns=200)
    assert result.exit_code == 0, result.stderr
    assert "job-h[/red]" in result.stdout
    assert "[bt] not found" in result.stdout


def test_empty_input_reports_zero_totals() -> None:
    document = ok_json(smi("-", stdin="\n\n"))
    assert document["groups"] == []
    assert document["totals"] == {
        "jobs": 0,
        "instance_hours": 0.0,
        "billable_instance_hours": 0.0,
        "spot_savings_percent": None,
        "failed": 0,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD_LINE + "\n" + "not json\n", ":3: not valid JSON"),
        (GOOD_LINE + "[1, 2, 3]\n", ":2: not a JSON object"),
        ("42\n", ":1: not a JSON object"),
        (GOOD_LINE * 16 + '{"training_job_name": "b"}\n', ":17: not a training-job record"),
    ],
    ids=["not-json", "array", "number", "no-arn"],
)
@pytest.mark.parametrize("view", [[], ["--failures"], ["--running"]])
def test_bad_lines_exit_2_naming_file_and_line(
    tmp_path: Path, content: str, message: str, view: list[str]
) -> None:
    path = tmp_path / "inventory.jsonl"
    path.write_text(content)

    result = smi(str(path), *view)

    assert result.exit_code == 2
    assert f"{path}{message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_bad_stdin_line_is_named_stdin() -> None:
    result = smi("-", stdin=GOOD_LINE + "{\n")
    assert result.exit_code == 2
    assert "<stdin>:2: not valid JSON" in result.stderr
    assert result.stdout == ""


def test_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = smi(str(missing))
    assert result.exit_code == 2
    assert str(missing) in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "colour"], "'colour' is not one of"),
        (["--by", "tag:"], "is not one of"),
        (["--by", "status", "--by", "status"], "only once"),
        (["--by", "status", "--failures"], "alternatives"),
        (["--failures", "--running"], "alternatives"),
        (["--format", "csv"], "csv"),
        (["--running", "--now", "yesterday"], "not an ISO-8601 timestamp"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = smi(str(REPORT_SMALL), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_help_documents_views_json_shapes_and_examples() -> None:
    result = smi("--help")
    assert result.exit_code == 0
    for text in ("--by", "--failures", "--running", '"groups"', '"running"', "Examples:", "80%"):
        assert text in result.stdout
    assert "--now ISO-8601" in result.stdout  # documented since the demo's clock is fixed
