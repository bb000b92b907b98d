"""Issue 21, item 1 and item 6's last part: `smi report` and `smi schema` take -f/--format,
-o/--output, -q/--quiet and --no-color as `smi collect` does (one definition, cli.common), `--by`
completes like `--columns`, and every command writes JSON lines the same compact way."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner, Result
from report_small import REPORT_SMALL

from sagemaker_inventory.cli import cli

SHARED = ("-f", "--format", "-o", "--output", "-q", "--quiet", "--no-color")


def smi(*args: str, columns: int = 120) -> Result:
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": str(columns)})


def _options(name: str) -> dict[str, click.Parameter]:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    return {flag: param for param in command.params for flag in param.opts}


@pytest.mark.parametrize("name", ["collect", "report", "schema"])
def test_every_subcommand_takes_the_shared_output_options(name: str) -> None:
    options = _options(name)
    assert set(SHARED) <= set(options)
    # One definition: the same help text for -o's "FILE replaced atomically" everywhere.
    assert "atomically" in (getattr(options["-o"], "help", "") or "")


def test_report_writes_a_file_with_dash_o_and_keeps_stdout_empty(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = smi("report", str(REPORT_SMALL), "-f", "json", "-o", str(target), "-q", "--no-color")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(target.read_text())["by"] == ["status"]


def test_report_dash_o_to_a_jsonl_file_gives_checks_as_json_lines(tmp_path: Path) -> None:
    target = tmp_path / "findings.jsonl"
    result = smi("report", str(REPORT_SMALL), "--checks", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    lines = target.read_text().splitlines()
    assert lines and all(json.loads(line)["check"] for line in lines)


def test_report_quiet_drops_warnings_from_stderr() -> None:
    loud = smi("report", str(REPORT_SMALL), "--by", "tag:no-such-key", "-f", "json")
    quiet = smi("report", str(REPORT_SMALL), "--by", "tag:no-such-key", "-f", "json", "-q")
    assert "no-such-key" in loud.stderr
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_report_dash_o_into_a_missing_directory_is_exit_2(tmp_path: Path) -> None:
    result = smi("report", str(REPORT_SMALL), "-o", str(tmp_path / "nope" / "r.json"))
    assert result.exit_code == 2 and "'-o' / '--output'" in result.stderr


def test_schema_takes_format_output_quiet_and_no_color(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = smi("schema", "-f", "json", "-o", str(target), "-q", "--no-color")
    assert result.exit_code == 0, result.stderr
    assert json.loads(target.read_text())["title"] == "aws_sagemaker_trainingjob"
    drift = smi("schema", "--drift", "-f", "json", "-o", "-")
    assert "undocumented" in json.loads(drift.stdout)


def test_schema_table_without_drift_is_exit_2() -> None:
    assert smi("schema", "-f", "table").exit_code == 2


def _complete(args: list[str], incomplete: str) -> list[str]:
    completer = ShellComplete(cli, {}, "smi", "_SMI_COMPLETE")
    return [item.value for item in completer.get_completions(args, incomplete)]


def test_report_by_completes_its_dimensions() -> None:
    assert _complete(["report", "--by"], "") == [
        "status",
        "instance_type",
        "account_id",
        "region",
        "month",
        "tag:",
    ]
    assert _complete(["report", "--by"], "ac") == ["account_id"]
    assert _complete(["report", "-f"], "j") == ["json", "jsonl"]


def _compact(line: str) -> bool:
    return line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))


def test_checks_json_lines_are_compact_as_records_are() -> None:
    result = smi("report", str(REPORT_SMALL), "--checks", "-f", "jsonl")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and lines
    assert all(_compact(line) for line in lines)


@pytest.mark.usefixtures("moto_aws")
def test_list_scopes_json_lines_are_compact_as_records_are() -> None:
    result = smi("collect", "-r", "us-east-1,eu-west-1", "--list-scopes", "-f", "jsonl")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == 2
    assert all(_compact(line) for line in lines)
