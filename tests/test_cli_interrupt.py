"""Ctrl-C at any moment (issue 10): exit 130 and one clean line, also before the run installs its
handlers, and never drawn into the live progress display. SIGINT or SIGTERM whatever the run waits
on (issue 19.4): STS or describes throttled, an endpoint that never answers or refuses, worker
processes: the run ends with 130 / 143, one line, and no file changed."""

from __future__ import annotations

import ast
import contextlib
import functools
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from signalled_run import (
    SilentEndpoint,
    files_in,
    previous_files,
    refused_url,
    signal_mid_run,
    slow_cli_script,
    throttling_endpoint,
)

import sagemaker_inventory

# smi's console entry point, with a SIGNAL sent to itself while options are still being checked
# (what Ctrl-C in the first half second hits: click used to answer "Aborted!" and exit 1).
EARLY = """
import os, signal, sys, time
import sagemaker_inventory.cli.collect as collect
from sagemaker_inventory.cli import main

def interrupted(*args, **kwargs):
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(30)

collect.checked_destination = interrupted
main(args=sys.argv[2:])
"""

# smi's console entry point with a JSON lines sink that writes slowly, so a signal lands mid-run
# while the progress display is live (FORCE_COLOR makes rich draw it into the pipe).
SLOW = slow_cli_script("from sagemaker_inventory.cli import main; main(args=sys.argv[1:])")


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_before_the_run_starts_is_one_line_and_128_plus_n(
    tmp_path: Path, name: str, code: int
) -> None:
    script = tmp_path / "early.py"
    script.write_text(EARLY)
    result = subprocess.run(
        [sys.executable, str(script), name, "collect", "-r", "us-east-1", "-o", "x.jsonl"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == code
    assert result.stderr == f"smi: stopped by {name}; no file was changed\n"
    assert result.stdout == "" and not (tmp_path / "x.jsonl").exists()


def test_sigint_mid_run_prints_its_line_after_the_progress_display_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "stopped" line was drawn into the live progress bar and half erased by it."""
    script = tmp_path / "slow.py"
    script.write_text(SLOW)
    monkeypatch.setenv("FORCE_COLOR", "1")
    command = [sys.executable, str(script), "collect", "--demo", "-r", "us-east-1", "-o", "o.jsonl"]
    code, err = signal_mid_run(command, tmp_path, signal.SIGINT)
    assert code == 130, err
    assert "scopes 0/1" in err  # the live display was drawn
    # Nothing (no cursor move, no erase) comes after the line: the display had already stopped.
    last = err.rsplit("\x1b[", 1)[-1]
    line = "smi: stopped by SIGINT; not finished: 123456789012/us-east-1; no file was changed\n"
    assert last == "2K" + line
    assert not (tmp_path / "o.jsonl").exists()


# --- a stop is a stop (issue 19.4): whatever smi waits on, within a bounded time ---------------

# A liveness bound only (no test times smi's speed): far above the stop's own grace, far below
# what a stop that does not reach a wait took (botocore's backoff, a read timeout: minutes).
HANG_GUARD_SECONDS = 10.0
SIGNALS = {"SIGINT": 130, "SIGTERM": 143}
ROLE = ["--role-arn", "arn:aws:iam::123456789012:role/smi", "--role-session-name", "stop-test"]


def _throttled(*operations: str, count: int) -> Callable[[Path], Iterator[tuple[str, Ready]]]:
    """An endpoint throttling 97% of `operations`; ready once one of them was throttled `count`
    times (smi is then in the backoff of its retries)."""

    @contextlib.contextmanager
    def endpoint(work: Path) -> Iterator[tuple[str, Ready]]:
        with throttling_endpoint(operations) as state:
            yield state.url, lambda: state.wait_throttled(operations[0], count)

    return endpoint


@contextlib.contextmanager
def _sts_silent(work: Path) -> Iterator[tuple[str, Ready]]:
    """STS never answers, SageMaker does: the scopes are done and wait for their account."""
    with throttling_endpoint((), hung={"GetCallerIdentity"}) as state:
        described = lambda: state.stats.requests["DescribeTrainingJob"] >= 80  # noqa: E731
        yield state.url, lambda: _wait_for(described, "the jobs were not described")


@contextlib.contextmanager
def _silent(work: Path) -> Iterator[tuple[str, Ready]]:
    silent = SilentEndpoint()
    try:
        yield silent.url, lambda: silent.wait_accepted(1)
    finally:
        silent.close()


@contextlib.contextmanager
def _refused(work: Path) -> Iterator[tuple[str, Ready]]:
    def ready() -> None:  # the run holds its snapshot: its handlers are in place
        _wait_for((work / "s.jsonl.lock").exists, "the run never started")
        time.sleep(0.5)  # connections refused, retried after backoff

    yield refused_url(), ready


Ready = Callable[[], None]
SCENARIOS = {
    "sts-throttled": (_throttled("GetCallerIdentity", count=3), []),
    "assume-role-throttled": (_throttled("AssumeRole", count=3), ROLE),
    "describe-throttled": (_throttled("DescribeTrainingJob", "GetResources", count=40), []),
    "silent": (_silent, []),
    "sts-silent": (_sts_silent, []),
    "refused": (_refused, []),
    "processes-throttled": (
        _throttled("DescribeTrainingJob", "GetResources", count=40),
        ["--processes", "2", *ROLE],
    ),
    "processes-silent": (_silent, ["--processes", "2", *ROLE]),
}


@pytest.mark.parametrize(
    ("scenario", "name"),
    [
        *[(s, n) for s in ("sts-throttled", "describe-throttled", "silent") for n in SIGNALS],
        ("refused", "SIGINT"),
        ("sts-silent", "SIGTERM"),
        ("assume-role-throttled", "SIGTERM"),
        ("processes-throttled", "SIGTERM"),
        ("processes-silent", "SIGINT"),
    ],
)
def test_a_stop_ends_the_run_whatever_it_waits_on_and_changes_no_file(
    tmp_path: Path, scenario: str, name: str
) -> None:
    """Regression: SIGTERM under heavy throttling had not ended a run 200 s later (STS in
    botocore's backoff, scopes retrying their own cancellation); SIGINT against an endpoint that
    never answers needed SIGKILL."""
    endpoint, options = SCENARIOS[scenario]
    work = tmp_path / "work"
    before = previous_files(work, "123456789012")
    with endpoint(work) as (url, ready):
        command = [
            sys.executable, "-m", "sagemaker_inventory", "collect", "-r", "us-east-1,us-west-2",
            "--endpoint-url", url, "-o", "o.jsonl", "--snapshot", "s.jsonl",
            "--changes", "c.jsonl", "--report", "r.json", *options,
        ]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            ready()
            workers = _children(process.pid)
            process.send_signal(getattr(signal, name))
            out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)
    assert process.returncode == SIGNALS[name], err
    assert files_in(work) == before  # byte-identical; no --changes, --report or temporary file
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"smi: stopped by {name}; "), err
    assert lines[0].endswith("; no file was changed")
    assert_no_internal_names(err)
    if "processes" in scenario:
        assert workers  # the run had started its worker processes; none outlives it
        _wait_for(lambda: not any(_running(pid) for pid in workers), f"orphans: {workers}")


def assert_no_internal_names(text: str) -> None:
    """No traceback, and no name of a class of smi's (an exception's, a private one's) in `text`."""
    assert "Traceback" not in text
    names = _package_class_names()
    found = {word for word in re.findall(r"\b_?[A-Z]\w+", text) if word in names}
    assert not found, text
    assert not re.search(r"\b_[A-Z]\w+", text), text


@functools.cache
def _package_class_names() -> frozenset[str]:
    package = Path(sagemaker_inventory.__file__).parent
    return frozenset(
        node.name
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    )


def _children(pid: int) -> list[int]:
    """The processes `pid` started (its --processes workers), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_reader_that_stopped_reading_does_not_hold_a_stop_up(tmp_path: Path) -> None:
    """`smi collect | less` with the screen full, then Ctrl-C: the records filled the pipe and a
    scope thread waits in its write, which no stop reaches: the run is given up all the same."""
    err_path = tmp_path / "err"
    with throttling_endpoint((), jobs=200) as state, err_path.open("w") as err:
        command = [
            sys.executable, "-m", "sagemaker_inventory", "collect", "-r", "us-east-1",
            "--endpoint-url", state.url, "--no-tags",
        ]  # fmt: skip
        # stdout is a pipe nobody reads: 200 records are more than it holds.
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=err)
        try:
            _wait_for(lambda: state.stats.requests["DescribeTrainingJob"] >= 40, "no describe")
            time.sleep(0.5)  # the pipe fills up
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=HANG_GUARD_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
            assert process.stdout is not None
            process.stdout.close()
    assert code == 143
    lines = err_path.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smi: stopped by SIGTERM; "), lines
