"""--processes: scopes spread over worker processes give what one process gives (records, per-scope
order, run report, snapshot and changes), a killed worker fails only its scopes, SIGTERM stops
every worker and changes no file, and the automatic choice of N. Workers must reach the backend
over the network, so these tests use moto in server mode (ThreadedMotoServer on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from conftest import running_moto_server
from signalled_run import files_in, previous_files, signal_mid_run, slow_cli_script

from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect import process_count, processes
from sagemaker_inventory.collect.process_count import InProcessBackendError, choose_processes

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
JOBS_PER_SCOPE = 3


def seed(url: str, account: str, regions: tuple[str, ...] = REGIONS) -> None:
    """JOBS_PER_SCOPE jobs in each region of `account` (moto routes assumed-role keys to it)."""
    keys = boto3.client("sts", region_name="us-east-1", endpoint_url=url).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed"
    )["Credentials"]
    for region in regions:
        client = boto3.client(
            "sagemaker",
            region_name=region,
            endpoint_url=url,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
        for i in range(JOBS_PER_SCOPE):
            client.create_training_job(
                TrainingJobName=f"job-{account[:3]}-{region}-{i}",
                AlgorithmSpecification={"TrainingImage": "img:1", "TrainingInputMode": "File"},
                RoleArn=f"arn:aws:iam::{account}:role/sm",
                OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
                ResourceConfig={
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 5,
                },
                StoppingCondition={"MaxRuntimeInSeconds": 60},
                HyperParameters={"api_key": "s3cr3t", "MaxDepth": "5"},
                Tags=[{"Key": "team", "Value": account[:3]}],
            )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_moto_server() as url:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            for account in ACCOUNTS:
                seed(url, account)
        yield url


def roles(accounts: tuple[str, ...] = ACCOUNTS) -> list[str]:
    return [arg for a in accounts for arg in ("--role-arn", f"arn:aws:iam::{a}:role/reader")]


def collect(
    url: str, *args: str, accounts: tuple[str, ...] = ACCOUNTS, tags: bool = False
) -> Result:
    """`smi collect` of `accounts` x REGIONS; without tags unless asked (moto's tagging API costs
    seconds per scope)."""
    base = ["collect", "--endpoint-url", url, "-r", ",".join(REGIONS), *roles(accounts)]
    no_tags = [] if tags else ["--no-tags"]
    return CliRunner().invoke(cli, [*base, *no_tags, *args], catch_exceptions=False)


def by_scope(lines: list[str]) -> dict[tuple[str, str], list[str]]:
    """Each scope's lines in the order they were written."""
    scopes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in lines:
        record = json.loads(line)  # a line two writers had interleaved would not parse
        scopes[(record["account_id"], record["training_job_arn"].split(":")[3])].append(line)
    return dict(scopes)


def report_without_times(path: Path) -> dict[str, Any]:
    report = json.loads(path.read_text())
    for key in ("started", "finished"):
        report.pop(key)
    for scope in report["scopes"]:
        scope.pop("seconds")
    return report


def test_two_processes_write_what_one_writes(server: str, tmp_path: Path) -> None:
    out = tmp_path / "inventory.jsonl"
    one = collect(server, "--processes", "1", "--report", str(tmp_path / "1.json"), tags=True)
    two = collect(
        server, "--processes", "2", "--report", str(tmp_path / "2.json"), "-o", str(out), "-v",
        tags=True,
    )  # fmt: skip
    assert one.exit_code == 0 and two.exit_code == 0, two.stderr
    lines_one, lines_two = one.stdout.splitlines(), out.read_text().splitlines()
    assert len(lines_one) == len(ACCOUNTS) * len(REGIONS) * JOBS_PER_SCOPE
    assert sorted(lines_two) == sorted(lines_one)
    assert by_scope(lines_two) == by_scope(lines_one)  # each scope in ListTrainingJobs order
    assert report_without_times(tmp_path / "2.json") == report_without_times(tmp_path / "1.json")
    # -v scope lines come from the workers through this process's logging.
    for account in ACCOUNTS:
        for region in REGIONS:
            assert f"smi: {account} {region}: collecting" in two.stderr
            assert f"smi: {account} {region}: ok, {JOBS_PER_SCOPE} jobs" in two.stderr


def snapshot_line(result: Result) -> str:
    """The snapshot's counts (after its path, which differs between the runs)."""
    line = next(line for line in result.stderr.splitlines() if line.startswith("smi: snapshot"))
    return line.split(".jsonl: ", 1)[1]


def test_snapshot_and_changes_are_the_same_with_two_processes(server: str, tmp_path: Path) -> None:
    from moto.sagemaker.models import sagemaker_backends

    accounts = ("444444444444", "555555555555")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        for account in accounts:
            seed(server, account)
    runs = {n: tmp_path / f"p{n}" for n in ("1", "2")}

    def refresh(n: str) -> Result:
        files = ["--snapshot", str(runs[n] / "s.jsonl"), "--changes", str(runs[n] / "c.jsonl")]
        return collect(server, "--processes", n, *files, accounts=accounts)

    for n, folder in runs.items():
        folder.mkdir()
        assert refresh(n).exit_code == 0
    jobs = sagemaker_backends["555555555555"]["eu-west-1"].training_jobs
    jobs["job-555-eu-west-1-1"].training_job_status = "Failed"
    del jobs["job-555-eu-west-1-2"]
    second = {n: refresh(n) for n in runs}
    assert "0 added, 1 changed, 1 removed; 10 reused" in second["2"].stderr
    assert snapshot_line(second["1"]) == snapshot_line(second["2"])
    for name in ("s.jsonl", "c.jsonl"):
        assert (runs["1"] / name).read_bytes() == (runs["2"] / name).read_bytes()
    ops = [json.loads(line)["op"] for line in (runs["2"] / "c.jsonl").read_text().splitlines()]
    assert ops == ["changed", "removed"]


def test_a_killed_worker_fails_its_scopes_and_the_others_finish(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = processes._ProcessRun._handle
    killed: list[int] = []

    def kill_on_first_start(self: Any, worker: Any, message: tuple[Any, ...]) -> None:
        handle(self, worker, message)
        if message[0] == "started" and not killed:
            killed.append(message[1])
            os.kill(worker.process.pid, signal.SIGKILL)

    monkeypatch.setattr(processes._ProcessRun, "_handle", kill_on_first_start)
    result = collect(server, "--processes", "2", "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 3, result.stderr
    scopes = json.loads((tmp_path / "r.json").read_text())["scopes"]
    failed = [s for s in scopes if s["status"] == "failed"]
    assert failed and all(s["error"]["code"] == "WorkerDied" for s in failed)
    assert "killed by SIGKILL" in failed[0]["error"]["message"]
    ok = {(s["account_id"], s["region"]) for s in scopes if s["status"] == "ok"}
    assert len(ok) + len(failed) == len(ACCOUNTS) * len(REGIONS)
    written = by_scope(result.stdout.splitlines())
    assert all(len(written[key]) == JOBS_PER_SCOPE for key in ok)
    assert "failed" in result.stderr and "WorkerDied" in result.stderr


# The real command in a subprocess; each record written in this process prints "written" to the
# real stdout and takes 0.3 s, so that SIGTERM lands mid-run. Worker pids go to PIDS.
SLOW_CLI = slow_cli_script(
    'from sagemaker_inventory.cli import cli; cli.main(sys.argv[2:], prog_name="smi")',
    patches="""
from sagemaker_inventory.collect import processes

original_start = processes._ProcessRun._start_worker

def start_worker(self):
    original_start(self)
    with open(sys.argv[1], "a") as pids:
        pids.write(f"{self.workers[-1].process.pid}\\n")

processes._ProcessRun._start_worker = start_worker
""",
)


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] in {"Z", "X"}
    except FileNotFoundError:
        return True


def test_sigterm_stops_every_worker_and_changes_no_file(server: str, tmp_path: Path) -> None:
    script, pids = tmp_path / "slow_cli.py", tmp_path / "pids"
    script.write_text(SLOW_CLI)
    work = tmp_path / "work"
    before = previous_files(work, "111111111111")
    args = ["collect", "--endpoint-url", server, "-r", ",".join(REGIONS), "--no-tags", *roles()]
    files = ["--snapshot", "s.jsonl", "--changes", "c.jsonl", "-o", "o.jsonl", "--processes", "2"]
    code, err = signal_mid_run([sys.executable, str(script), str(pids), *args, *files], work)
    assert code == 143, err
    assert err.strip().splitlines()[-1].startswith("smi: stopped by SIGTERM; not finished: ")
    assert err.strip().splitlines()[-1].endswith("; no file was changed")
    assert files_in(work) == before
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 2 and all(gone(pid) for pid in workers)


def test_the_automatic_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_count, "usable_cores", lambda: 4)
    per = process_count.SCOPES_PER_PROCESS
    assert choose_processes(None, per - 1, max_scopes=8) == 1  # a handful: one process
    assert choose_processes(None, 2 * per, max_scopes=8) == 2
    assert choose_processes(None, 100 * per, max_scopes=8) == 4  # never beyond the cores
    assert choose_processes(None, 100 * per, max_scopes=3) == 3  # nor beyond --max-scopes
    assert choose_processes(3, 2, max_scopes=8) == 2  # nor beyond the scopes
    assert choose_processes(1, 1000, max_scopes=8) == 1


@pytest.mark.usefixtures("moto_aws")
def test_one_process_while_aws_is_mocked_in_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_count, "usable_cores", lambda: 4)
    assert choose_processes(None, 1000, max_scopes=8) == 1
    with pytest.raises(InProcessBackendError):
        choose_processes(2, 1000, max_scopes=8)


@pytest.mark.parametrize(
    ("value", "named"),
    [("0", "'0'"), ("-1", "'-1'"), ("abc", "'abc'"), ("2.5", "'2.5'")],
)
def test_bad_values_exit_2_naming_them(value: str, named: str) -> None:
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1", "--processes", value])
    assert result.exit_code == 2 and result.stdout == ""
    assert "--processes" in result.stderr and named in result.stderr


def test_the_demo_runs_in_one_process() -> None:
    result = CliRunner().invoke(cli, ["collect", "--demo", "--processes", "2"])
    assert result.exit_code == 2 and "--processes" in result.stderr
    assert "use 1" in result.stderr
