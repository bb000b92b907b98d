"""`smi collect --snapshot/--changes/--file-mode/--redact-pattern/--no-redact` through click, and
SIGTERM / a concurrent run against the real command in a subprocess."""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from jobs import backend_job, create_jobs, delete_job, set_job
from signalled_run import files_in, previous_files, signal_mid_run, slow_cli_script

from sagemaker_inventory.cli import cli

pytestmark = pytest.mark.usefixtures("moto_aws")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def east(moto_aws: None) -> None:
    create_jobs("us-east-1", ["a", "b", "c"], tags={"team": "ml"})
    backend_job("us-east-1", "a").hyper_parameters["api_key"] = "s3cr3t"


@pytest.mark.usefixtures("east")
def test_second_run_reuses_everything_and_reports_changes(tmp_path: Path) -> None:
    snap, changes = tmp_path / "inv.jsonl", tmp_path / "delta.jsonl"
    first = run("collect", "-r", "us-east-1", "--snapshot", str(snap), "--changes", str(changes))
    assert first.exit_code == 0, first.stderr
    assert "3 added, 0 changed, 0 removed; 0 reused" in first.stderr
    assert [c["op"] for c in lines(changes)] == ["added"] * 3
    before = snap.read_bytes()
    second = run("collect", "-r", "us-east-1", "--snapshot", str(snap), "--changes", str(changes))
    assert second.exit_code == 0, second.stderr
    assert "0 added, 0 changed, 0 removed; 3 reused" in second.stderr
    assert snap.read_bytes() == before and changes.read_text() == ""
    set_job("us-east-1", "b", status="Failed")
    delete_job("us-east-1", "c")
    third = run("collect", "-r", "us-east-1", "--snapshot", str(snap), "--changes", str(changes))
    assert "0 added, 1 changed, 1 removed; 1 reused" in third.stderr
    assert [(c["op"], c["record"]["training_job_name"]) for c in lines(changes)] == [
        ("changed", "b"),
        ("removed", "c"),
    ]


@pytest.mark.usefixtures("east")
def test_secrets_are_redacted_by_default_and_kept_with_a_warning(tmp_path: Path) -> None:
    default = run("collect", "-r", "us-east-1")
    assert _jsonl(default)[0]["hyper_parameters"]["api_key"] == "<redacted>"
    kept = run("collect", "-r", "us-east-1", "--no-redact")
    assert _jsonl(kept)[0]["hyper_parameters"]["api_key"] == "s3cr3t"
    assert "warning: --no-redact" in kept.stderr
    custom = run("collect", "-r", "us-east-1", "--redact-pattern", "^max")
    assert _jsonl(custom)[0]["hyper_parameters"]["MaxDepth"] == "<redacted>"


@pytest.mark.usefixtures("east")
def test_the_report_counts_redacted_values_per_field_path(tmp_path: Path) -> None:
    """Issue 20: --report says how many values redaction changed, per field path, never which."""
    hyper_parameters = backend_job("us-east-1", "b").hyper_parameters
    hyper_parameters["hf_token"] = "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"
    hyper_parameters["tokenizer"] = "gpt2"  # an ML word: kept, not counted
    report = tmp_path / "run.json"
    result = run("collect", "-r", "us-east-1", "--report", str(report))
    assert result.exit_code == 0, result.stderr
    assert json.loads(report.read_text())["redactions"] == {"hyper_parameters": 2}
    assert "s3cr3t" not in report.read_text() and "hf_jCBa" not in report.read_text()
    kept = run("collect", "-r", "us-east-1", "--no-redact", "--report", str(report))
    assert kept.exit_code == 0, kept.stderr
    assert "redactions" not in json.loads(report.read_text())


@pytest.mark.usefixtures("east")
def test_redaction_reads_the_model_the_clients_parse_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: redaction found the user-data maps in botocore's bundled SageMaker model,
    loaded from disk a second time for every run (CPU and memory before the first record)."""
    from sagemaker_inventory.records import redaction, shape

    def no_second_model() -> Any:
        raise AssertionError("botocore's bundled SageMaker model loaded again")

    monkeypatch.setattr(shape, "bundled_sagemaker_model", no_second_model)
    redaction._compiled_tree.cache_clear()
    result = run("collect", "-r", "us-east-1", "--all-fields")
    assert result.exit_code == 0, result.stderr
    assert _jsonl(result)[0]["hyper_parameters"]["api_key"] == "<redacted>"


@pytest.mark.usefixtures("east")
def test_file_mode_applies_to_every_file_smi_writes(tmp_path: Path) -> None:
    out, snap, changes = tmp_path / "o.jsonl", tmp_path / "s.jsonl", tmp_path / "c.jsonl"
    report = tmp_path / "run.json"
    out.write_text("old\n")
    out.chmod(0o666)
    result = run(
        "collect", "-r", "us-east-1", "-o", str(out), "--snapshot", str(snap),
        "--changes", str(changes), "--report", str(report), "--file-mode", "640",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for path in (out, snap, changes, report, tmp_path / "s.jsonl.meta.json"):
        assert path.stat().st_mode & 0o777 == 0o640, path


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--changes", "c.jsonl"], "--changes needs --snapshot"),
        (["--snapshot", "s.jsonl", "--status", "Failed"], "cannot be combined"),
        (["--snapshot", "s.jsonl", "-o", "s.jsonl"], "name the same file"),
        (["--snapshot", "missing/s.jsonl"], "does not exist"),
        (["--file-mode", "999"], "'999' is not an octal mode"),
        (["--file-mode", "7777"], "not a permission mode"),
        (["--redact-pattern", "(x"], "'(x' is not a valid regex"),
        (["--no-redact", "--redact-pattern", "x"], "contradict"),
    ],
)
def test_bad_input_is_exit_2(
    args: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("collect", "-r", "us-east-1", *args)
    assert result.exit_code == 2
    assert named in result.stderr
    assert result.stdout == ""


def test_a_file_that_is_not_a_snapshot_is_exit_2_with_its_line(tmp_path: Path) -> None:
    snap = tmp_path / "s.jsonl"
    snap.write_text("name,status\n")
    result = run("collect", "-r", "us-east-1", "--snapshot", str(snap))
    assert result.exit_code == 2
    assert f"{snap}:1: not a JSON record" in result.stderr
    assert snap.read_text() == "name,status\n"


def test_a_held_lock_is_exit_4_at_once(tmp_path: Path) -> None:
    snap = tmp_path / "s.jsonl"
    with (tmp_path / "s.jsonl.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run("collect", "-r", "us-east-1", "--snapshot", str(snap))
    assert result.exit_code == 4
    assert "in use by another smi run" in result.stderr
    assert not snap.exists()


# The real command in a process of its own, with a JSON lines sink that writes slowly, so a
# signal lands mid-run. The demo backend provides the jobs.
SLOW_CLI = slow_cli_script(
    'from sagemaker_inventory.cli import cli; cli.main(sys.argv[1:], prog_name="smi")'
)


def test_sigterm_stops_the_command_and_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    script = tmp_path / "slow_cli.py"
    script.write_text(SLOW_CLI)
    work = tmp_path / "work"
    before = previous_files(work, "123456789012")
    args = ["collect", "--demo", "-r", "us-east-1", "--snapshot", "s.jsonl", "-o", "o.jsonl"]
    code, err = signal_mid_run([sys.executable, str(script), *args, "--changes", "c.jsonl"], work)
    assert code == 143, err
    assert "smi: stopped by SIGTERM; not finished: " in err and "no file was changed" in err
    assert files_in(work) == before


def _jsonl(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_scope_results_count_the_reused_records(tmp_path: Path) -> None:
    from sagemaker_inventory.aws.sessions import SessionFactory
    from sagemaker_inventory.collect.plan import CollectOptions
    from sagemaker_inventory.collect.run import run_inventory
    from sagemaker_inventory.collect.run_files import snapshot_run_of
    from sagemaker_inventory.collect.scopes import AccountSource, build_scopes
    from sagemaker_inventory.snapshot.index import SnapshotSettings
    from sagemaker_inventory.snapshot.writer import snapshot_session

    create_jobs("us-east-1", ["a", "b"])
    scopes = build_scopes([AccountSource()], ["us-east-1"])
    factory = SessionFactory()
    reused = []
    for _ in range(2):
        with snapshot_session(tmp_path / "s.jsonl", SnapshotSettings()) as keeper:
            options = CollectOptions(reuse=keeper.snapshot.reuse)
            summary = run_inventory(scopes, factory, options, keeper.add)
            keeper.commit(snapshot_run_of(summary))
        reused.append(summary.scopes[0].reused)
    assert reused == [0, 2]


@pytest.mark.usefixtures("east")
def test_the_run_summary_shows_no_describes_on_an_unchanged_inventory_and_stale_scopes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_cli_collect import deny_region

    create_jobs("eu-west-1", ["w"])
    snap, report = tmp_path / "inv.jsonl", tmp_path / "run.json"
    args = (
        "collect",
        "-r",
        "us-east-1,eu-west-1",
        "--snapshot",
        str(snap),
        "--report",
        str(report),
    )
    assert run(*args).exit_code == 0
    assert run(*args).exit_code == 0
    second = json.loads(report.read_text())
    assert second["totals"]["api_calls"].get("DescribeTrainingJob", 0) == 0
    assert second["totals"]["api_calls"]["ListTrainingJobs"] == 2
    assert [s["reused"] for s in second["scopes"]] == [3, 1]
    assert second["snapshot"]["reused"] == 4 and second["snapshot"]["stale"] == []

    deny_region(monkeypatch, "eu-west-1")
    third = run(*args)
    assert third.exit_code == 3
    assert "eu-west-1 was not refreshed" in third.stderr
    stale = json.loads(report.read_text())["snapshot"]["stale"]
    assert [(s["region"], s["records"]) for s in stale] == [("eu-west-1", 1)]
    assert stale[0]["since"].endswith("Z")
    assert sum(1 for _ in snap.read_text().splitlines()) == 4  # the failed scope kept its record
