"""stop_signals: SIGINT/SIGTERM set the run's event; a slow run stopped by one changes no file;
run_stoppable: the main thread gives up, a grace after a signal, work that ignores the stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagemaker_inventory.collect.signals import (
    RunAbandoned,
    StopRequest,
    interruption_line,
    run_stoppable,
    stop_signals,
)

# A `smi collect --snapshot S -o O` stand-in wired from the modules the CLI uses: lock, snapshot,
# atomic output, signals. Emitting sleeps, so a signal lands mid-run. Exits as the CLI would.
DRIVER = """
import json, sys, time
from pathlib import Path
from moto import mock_aws
import boto3
from sagemaker_inventory.output.files import atomic_writer
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.run_files import snapshot_run_of
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.snapshot.lock import SnapshotLocked, snapshot_lock
from sagemaker_inventory.collect.scopes import AccountSource, build_scopes
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.signals import interruption_line, stop_signals
from sagemaker_inventory.snapshot.errors import SnapshotCancelled
from sagemaker_inventory.snapshot.index import SnapshotSettings, open_snapshot
from sagemaker_inventory.snapshot.writer import SnapshotWriter

snapshot, output = Path(sys.argv[1]), Path(sys.argv[2])
jobs, delay = int(sys.argv[3]), float(sys.argv[4])


class Abandon(Exception):
    pass


def create_jobs(count):
    client = boto3.client("sagemaker", region_name="us-east-1")
    for i in range(count):
        client.create_training_job(
            TrainingJobName=f"job-{i:03d}",
            AlgorithmSpecification={"TrainingImage": "img:1", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/sm",
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={
                "InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10
            },
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
        )


def collect(stop, snap, writer):
    with atomic_writer(output) as stream:
        def emit(record):
            writer.add(record)
            stream.write(json.dumps(record) + "\\n")
            print("emitted", flush=True)
            time.sleep(delay)

        scopes = build_scopes([AccountSource()], ["us-east-1"])
        options = CollectOptions(reuse=snap.reuse, with_tags=False, max_workers=2)
        summary = run_inventory(scopes, SessionFactory(), options, emit, cancelled=stop.cancelled)
        if stop.stopped:
            raise Abandon(summary)
    writer.commit(snapshot_run_of(summary), cancelled=stop.cancelled)
    return summary


def main():
    try:
        with (
            stop_signals() as stop,
            snapshot_lock(snapshot),
            mock_aws(),
            open_snapshot(snapshot, SnapshotSettings()) as snap,
            SnapshotWriter(snap) as writer,
        ):
            create_jobs(jobs)
            try:
                collect(stop, snap, writer)
            except (Abandon, SnapshotCancelled) as exc:
                unfinished = [s.region for s in exc.args[0].scopes if s.status != "ok"] \\
                    if isinstance(exc, Abandon) else []
                print(interruption_line(stop, unfinished), file=sys.stderr)
                return stop.exit_code
    except SnapshotLocked as exc:
        print(f"smi: {exc}", file=sys.stderr)
        return 4
    return 0


sys.exit(main())
"""


def start_driver(tmp_path: Path, jobs: int, delay: float) -> subprocess.Popen[str]:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    paths = [str(work / "inv.jsonl"), str(work / "out.jsonl")]
    return subprocess.Popen(
        [sys.executable, str(script), *paths, str(jobs), str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def files(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((tmp_path / "work").iterdir())}


def wait_for_first_record(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line == "emitted\n", process.stderr.read() if process.stderr else line


@pytest.fixture
def driver_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver inherits the fake credentials of conftest's aws_env; no proxy, no real AWS."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.usefixtures("driver_env")
def test_sigterm_mid_run_leaves_every_file_byte_identical_and_a_second_run_is_refused(
    tmp_path: Path,
) -> None:
    first = start_driver(tmp_path, jobs=3, delay=0)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    before = files(tmp_path)
    assert {"inv.jsonl", "inv.jsonl.meta.json", "inv.jsonl.lock", "out.jsonl"} <= set(before)

    slow = start_driver(tmp_path, jobs=40, delay=0.5)
    try:
        wait_for_first_record(slow)
        concurrent = start_driver(tmp_path, jobs=3, delay=0)
        _, refused = concurrent.communicate(timeout=120)
        assert concurrent.returncode == 4
        assert "in use by another smi run" in refused and f"pid {slow.pid}" in refused
        slow.send_signal(signal.SIGTERM)
        _, err = slow.communicate(timeout=120)
    finally:
        _reap(slow)
    assert slow.returncode == 143
    assert err.strip().splitlines()[-1] == (
        "smi: stopped by SIGTERM; not finished: us-east-1; no file was changed"
    )
    assert files(tmp_path) == before  # byte-identical, and no temporary file left behind


def _reap(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=30)


def test_a_signal_sets_the_event_and_gives_its_exit_code() -> None:
    cancelled = threading.Event()
    with stop_signals(cancelled) as stop:
        assert not stop.stopped and stop.exit_code is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert cancelled.wait(timeout=10)
    assert (stop.signum, stop.exit_code, stop.signal_name) == (signal.SIGTERM, 143, "SIGTERM")


@pytest.fixture
def recorded_handlers() -> Iterator[list[int]]:
    """Replace SIGINT/SIGTERM handlers by recorders for the test, put the real ones back after."""
    seen: list[int] = []
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def record(signum: int, frame: Any) -> None:
        seen.append(signum)

    for sig in saved:
        signal.signal(sig, record)
    yield seen
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_handlers_are_restored_and_a_second_signal_reaches_the_old_one(
    recorded_handlers: list[int],
) -> None:
    old = signal.getsignal(signal.SIGINT)
    with stop_signals() as stop:
        assert signal.getsignal(signal.SIGINT) is not old
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.cancelled.wait(timeout=10)
        os.kill(os.getpid(), signal.SIGTERM)  # an impatient second signal: the old behaviour
    assert recorded_handlers == [signal.SIGTERM]
    assert stop.signum == signal.SIGINT and stop.exit_code == 130
    assert signal.getsignal(signal.SIGINT) is old


def test_outside_the_main_thread_nothing_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[StopRequest] = []

    def worker() -> None:
        with stop_signals() as stop:
            seen.append(stop)
            assert signal.getsignal(signal.SIGTERM) is before

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(seen) == 1 and not seen[0].stopped


def test_the_interruption_line_names_what_was_not_finished() -> None:
    stop = StopRequest()
    stop.signum = signal.SIGINT
    assert interruption_line(stop, ["a/us-east-1"]) == (
        "smi: stopped by SIGINT; not finished: a/us-east-1; no file was changed"
    )
    many = interruption_line(stop, [f"r{i}" for i in range(5)])
    assert "not finished: r0, r1, r2 and 2 more;" in many
    assert "before its files were written" in interruption_line(stop, [])


def _signalled() -> StopRequest:
    stop = StopRequest()
    stop.signum = signal.SIGTERM
    stop.cancelled.set()
    return stop


def test_run_stoppable_hands_back_the_works_result_or_its_exception() -> None:
    assert run_stoppable(StopRequest(), lambda: 42) == 42

    def fail() -> None:
        raise LookupError("from the work")

    with pytest.raises(LookupError, match="from the work"):
        run_stoppable(StopRequest(), fail)


def test_after_a_signal_work_stuck_past_the_grace_is_given_up() -> None:
    """Regression: SIGINT against an endpoint that never answers needed SIGKILL (the main thread
    joined a thread blocked in a socket read)."""
    stuck = threading.Event()
    try:
        with pytest.raises(RunAbandoned, match="stopped by SIGTERM"):
            run_stoppable(_signalled(), stuck.wait, grace=0.05)
    finally:
        stuck.set()  # let the thread given up end


def test_work_that_ends_within_the_grace_after_a_signal_is_waited_for() -> None:
    stop = _signalled()

    def stops_soon() -> str:
        stop.cancelled.wait()
        return "cancelled scopes, summarised"

    assert run_stoppable(stop, stops_soon, grace=30) == "cancelled scopes, summarised"


def test_a_cancel_without_a_signal_never_gives_the_work_up() -> None:
    """An output that failed cancels the run too: its scopes finish and the write error is the
    run's outcome, whatever the grace."""
    stop = StopRequest()
    stop.cancelled.set()
    done = threading.Event()
    threading.Timer(0.3, done.set).start()
    assert run_stoppable(stop, done.wait, grace=0.01) is True
