"""Issue 21, items 4 and 6: stderr is one message a line, each starting `smi: `, never wrapped
off a terminal; a missing-credentials run says what is wrong and the fix once, on one line, without
nested brackets; a region typo gets "did you mean"; --created-after later than --created-before is
exit 2 naming both; a truncated JSON line is named by its own number."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sagemaker_inventory.cli import cli


def run(*args: str, columns: int = 40) -> Result:
    # A narrow COLUMNS: a console that wrapped would wrap every message here.
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": str(columns)}, prog_name="smi")


def _nested_brackets(line: str) -> bool:
    depth = 0
    for char in line:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth > 1:
            return True
    return False


@pytest.mark.usefixtures("moto_aws")
def test_missing_credentials_is_one_line_with_the_fix_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = run("collect", "-r", "us-east-1,eu-west-1,us-west-2")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("smi: error: no AWS credentials found")
    assert line.count("aws configure") == 1 and not _nested_brackets(line)


def test_a_usage_error_is_one_smi_line_with_did_you_mean_for_a_region() -> None:
    result = run("collect", "--demo", "-r", "us-east1")
    assert result.exit_code == 2
    # The demo notice comes first: the region is checked against the demo's botocore.
    assert result.stderr.splitlines()[1:] == [
        "smi: error: Invalid value for '-r' / '--region': unknown region 'us-east1' (did you"
        " mean 'us-east-1'?); see 'smi collect --help'"
    ]


def test_an_unknown_option_is_one_line_too() -> None:
    result = run("report", "--nope")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("smi: error: No such option '--nope'")


def test_created_after_later_than_created_before_is_exit_2_naming_both() -> None:
    result = run(
        "collect",
        "--demo",
        "--created-after",
        "2026-03-02T00:00:00Z",
        "--created-before",
        "2026-03-01",
    )
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "--created-after (2026-03-02T00:00:00Z)" in line
    assert "--created-before (2026-03-01T00:00:00Z)" in line


def test_the_demo_notice_and_summary_are_unwrapped_smi_lines() -> None:
    result = run("collect", "--demo", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("smi: ") for line in lines)
    assert "DEMO DATA" in lines[0] and "Nothing here comes from your AWS account." in lines[0]


RECORD = '{"training_job_name": "%s", "training_job_arn": "arn:aws:sagemaker:r:1:training-job/%s"}'


@pytest.mark.parametrize(
    "cut",
    [
        '{"training_job_name": "c",',  # the decoder notices on line 4
        '{"training_job_name": "c"',
        '{"training_job_name": "c", "training_job_a',
    ],
)
def test_a_truncated_json_line_is_named_by_its_own_number(tmp_path: Path, cut: str) -> None:
    path = tmp_path / "inventory.jsonl"
    path.write_text("\n".join([RECORD % ("a", "a"), RECORD % ("b", "b"), cut, RECORD % ("d", "d")]))
    result = run("report", str(path), "-f", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"smi: error: {path}:3: not valid JSON")
