"""Issue 12.1: a write that fails (full disk, file-size limit) is a failure (exit 5) naming the
file, never a silent exit 0; -o and the snapshot keep their previous content; no temporary file
is left behind; only a reader going away (EPIPE) is quiet, alike for collect and report."""

from __future__ import annotations

import errno
import io
import os
import resource
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs
from report_small import REPORT_SMALL

from sagemaker_inventory.cli import cli
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.output.files import WriteFailed, atomic_writer, named_stream


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """RLIMIT_FSIZE for this process, SIGXFSZ ignored so that write gets EFBIG."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_writer_under_a_file_size_limit_keeps_the_old_file_in_a_subprocess(
    tmp_path: Path,
) -> None:
    """Regression: a write past RLIMIT_FSIZE was reported as success."""
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    script = textwrap.dedent(
        f"""
        import resource, signal
        from sagemaker_inventory.output.files import WriteFailed, atomic_writer
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            with atomic_writer({str(target)!r}) as stream:
                for _ in range(1000):
                    stream.write("x" * 100 + "\\n")
        except WriteFailed as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert f"cannot write {target}: File too large (EFBIG)" in done.stdout
    assert target.read_text() == "previous\n"
    assert leftovers(tmp_path) == []


def test_failing_flush_names_the_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with (
        pytest.raises(WriteFailed, match=r"cannot write .*out.csv: No space left on device"),
        atomic_writer(target) as stream,
    ):
        stream.write("new\n")
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_named_stream_turns_enospc_into_write_failed_but_lets_epipe_through() -> None:
    class Full(io.StringIO):
        def __init__(self, error: int) -> None:
            super().__init__()
            self.error = error

        def write(self, text: str) -> int:
            raise OSError(self.error, os.strerror(self.error))

    with pytest.raises(WriteFailed, match=r"cannot write standard output: .*ENOSPC"):
        named_stream(Full(errno.ENOSPC), "standard output").write("x")
    with pytest.raises(BrokenPipeError):
        named_stream(Full(errno.EPIPE), "standard output").write("x")


def test_temporaries_of_a_killed_run_are_removed_and_a_live_runs_kept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f".out.jsonl.{dead.stdout.strip()}.abcd1234.tmp"
    live = tmp_path / f".out.jsonl.{os.getppid()}.abcd1234.tmp"
    other = tmp_path / f".other.jsonl.{dead.stdout.strip()}.abcd1234.tmp"
    for path in (stale, live, other):
        path.write_text("half")
    with atomic_writer(tmp_path / "out.jsonl") as stream:
        stream.write("new\n")
    assert leftovers(tmp_path) == sorted([live.name, other.name])


@pytest.mark.usefixtures("moto_aws")
def test_collect_output_past_a_file_size_limit_is_exit_5_and_keeps_the_old_file(
    tmp_path: Path,
) -> None:
    """Regression: -o under a file-size limit exited 0 with a stale file."""
    create_jobs("us-east-1", [f"job-{i}" for i in range(4)])
    out = tmp_path / "inventory.jsonl"
    out.write_text("previous\n")
    with file_size_limit(2000):
        result = run("collect", "-r", "us-east-1", "-o", str(out), "-q")
    assert result.exit_code == ExitCode.WRITE_FAILED == 5
    assert f"smi: error: cannot write {out}: File too large (EFBIG)" in result.stderr
    assert out.read_text() == "previous\n"
    assert leftovers(tmp_path) == []


@pytest.mark.usefixtures("moto_aws")
def test_snapshot_past_a_file_size_limit_is_exit_5_and_keeps_the_old_snapshot(
    tmp_path: Path,
) -> None:
    """Regression: the snapshot's temporary file failed to write and smi exited 0."""
    create_jobs("us-east-1", [f"job-{i}" for i in range(3)])
    snap = tmp_path / "inv.jsonl"
    assert run("collect", "-r", "us-east-1", "--snapshot", str(snap), "-q").exit_code == 0
    before = snap.read_bytes()
    create_jobs("us-east-1", [f"more-{i}" for i in range(3)])
    with file_size_limit(len(before) + 100):
        result = run("collect", "-r", "us-east-1", "--snapshot", str(snap), "-q")
    assert result.exit_code == 5
    assert "smi: error: cannot write" in result.stderr and "File too large" in result.stderr
    assert snap.read_bytes() == before
    assert leftovers(tmp_path) == []


def _collect_to_dev_full_script() -> str:
    return textwrap.dedent(
        """
        import sys
        from moto import mock_aws
        import boto3
        with mock_aws():
            client = boto3.client("sagemaker", region_name="us-east-1")
            client.create_training_job(
                TrainingJobName="a",
                AlgorithmSpecification={"TrainingImage": "i", "TrainingInputMode": "File"},
                RoleArn="arn:aws:iam::123456789012:role/r",
                OutputDataConfig={"S3OutputPath": "s3://b/o"},
                ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                "VolumeSizeInGB": 1},
                StoppingCondition={"MaxRuntimeInSeconds": 60},
            )
            from sagemaker_inventory.cli import main
            main(args=sys.argv[1:])
        """
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_collect_to_dev_full_is_exit_5() -> None:
    """Regression: stdout on a full device exited 0 with no message."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _collect_to_dev_full_script(),
                "collect",
                "-r",
                "us-east-1",
                "-f",
                "jsonl",
                "-q",
            ],
            check=False,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 5, done.stderr
    assert done.stderr.strip() == (
        "smi: error: cannot write standard output: No space left on device (ENOSPC)"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_report_to_dev_full_is_exit_5(fmt: str) -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sagemaker_inventory",
                "report",
                str(REPORT_SMALL),
                "--format",
                fmt,
            ],
            check=False,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert done.returncode == 5
    assert "Traceback" not in done.stderr
    assert "smi: error: cannot write standard output: No space left on device" in done.stderr


def test_report_into_a_closed_pipe_exits_like_collect_quietly() -> None:
    """Regression: `smi report | head` exited 1 (click's EPIPE handling), collect 0."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sagemaker_inventory",
            "report",
            str(REPORT_SMALL),
            "--by",
            "status",
            "--by",
            "instance_type",
            "--format",
            "table",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first write
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert stderr == ""
