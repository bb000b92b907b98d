"""Where a job's CPU goes in a one-region `smi collect` run, measured inside the run: the per-job
half of "where the time went" for one region of many jobs.

`smi collect` runs in this process against the fake of scripts/fake_endpoint.py (its own
process, fully populated jobs, 30 ms a call), with clocks on the way: each thread's CPU clock
(`time.thread_time`: another process's load skews it less than wall time) is read around smi's
own steps (its event handlers, record conversion, redaction, JSON encoding, the sink) and between
botocore's public events of each DescribeTrainingJob (as in scripts/request_cpu.py), and around
each garbage collection. Each clock counts its own time only: a handler's or a collection's CPU
is taken out of the stage or step it ran in. What no clock covers (listing, the bulk tag lookup,
threads handing jobs and records over, the scope's start, clients) is "everything else": the
process's CPU from the start of the command (imports excluded) minus the clocked. py-spy's
samples of the thread holding the GIL (`bench.py --py-spy`) give C code that holds the GIL, such
as JSON encoding, far more than its share in such a run; these clocks do not.

    python scripts/job_cpu.py --jobs 1000
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import child_env

ROOT = Path(__file__).resolve().parent.parent
# botocore's events of a DescribeTrainingJob, in order; a stage is named by the event ending it.
EVENTS = ("before-parameter-build", "before-call", "request-created", "before-send")
EVENTS += ("before-parse", "needs-retry", "after-call")
STAGES = {
    "start -> before-parameter-build": "botocore: the call, its parameters and endpoint",
    "before-parameter-build -> before-call": "botocore: the call, its parameters and endpoint",
    "before-call -> request-created": "botocore: serialization, the request",
    "request-created -> before-send": "botocore: signing, User-Agent",
    "before-send -> before-parse": "botocore: HTTP (urllib3, http.client)",
    "before-parse -> needs-retry": "botocore: parsing the answer",
    "needs-retry -> after-call": "botocore: its retry handler, the return",
    "after-call -> end": "botocore: its retry handler, the return",
}
HOOKS = "smi: event handlers (metering, pacing, answer checks, stop)"
START = "start-up until the first DescribeTrainingJob (the command's imports, session, clients)"
OTHER = "everything else (listing, tags, threads handing jobs and records over)"


class Clocks:
    """Exclusive CPU time per label: a clock started inside another is taken out of it."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        # The process's CPU seconds and the clocked seconds when the first describe began.
        self.first_describe: tuple[float, float] | None = None

    def _stack(self) -> list[float]:
        stack: list[float] = self._local.__dict__.setdefault("stack", [])
        return stack

    def start(self) -> float:
        self._stack().append(0.0)
        return time.thread_time()

    def stop(self, label: str, began: float) -> None:
        elapsed = time.thread_time() - began
        stack = self._stack()
        inner = stack.pop()
        if stack:
            stack[-1] += elapsed
        with self._lock:
            self.spent[label] += elapsed - inner
            self.calls[label] += 1

    def timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def clocked(*args: Any, **kwargs: Any) -> Any:
            began = self.start()
            try:
                return function(*args, **kwargs)
            finally:
                self.stop(label, began)

        return clocked

    def stage(self, event: str) -> None:
        """End the describe's current stage at `event` and start the next."""
        local = self._local.__dict__
        self.stop(f"{local['event']} -> {event}", local["began"])
        local["event"], local["began"] = event, self.start()


@contextlib.contextmanager
def replaced(target: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


def clocked_run(clocks: Clocks) -> contextlib.ExitStack:
    """smi's steps with clocks on them (undone when the stack closes)."""
    from sagemaker_inventory.aws import answer_checks, metering, pacing, retry_waits, sessions
    from sagemaker_inventory.collect import run, run_files
    from sagemaker_inventory.output import sinks

    stack = contextlib.ExitStack()
    for owner, name in [
        (metering.ApiMeter, "_on_call"),
        (metering.ApiMeter, "_on_request"),
        (metering.ApiMeter, "_on_attempt_done"),
        (answer_checks._Checks, "mark_body"),
        (answer_checks._Checks, "needs_retry"),
        (retry_waits.RunStop, "check"),
    ]:
        stack.enter_context(replaced(owner, name, clocks.timed(HOOKS, getattr(owner, name))))
    for name in ("_waiter", "_learner"):  # they build the handlers a Pacer registers
        build = getattr(pacing, name)
        clocked = functools.partial(_clocked_handler, clocks, build)
        stack.enter_context(replaced(pacing, name, clocked))
    steps = [
        (run, "to_record", "smi: record conversion (to_record)"),
        (run_files, "redact", "smi: redaction"),
        (sinks, "record_json", "smi: JSON encoding"),
        (sinks.JsonLinesSink, "write", "smi: writing the line"),
    ]
    for owner, name, label in steps:
        stack.enter_context(replaced(owner, name, clocks.timed(label, getattr(owner, name))))
    stack.enter_context(replaced(run, "describe_training_job", _staged(clocks, run)))
    client = sessions.SessionFactory.client
    stack.enter_context(replaced(sessions.SessionFactory, "client", _marking(clocks, client)))
    return stack


def _clocked_handler(clocks: Clocks, build: Callable[..., Any], *args: Any) -> Any:
    return clocks.timed(HOOKS, build(*args))


def _staged(clocks: Clocks, run: Any) -> Callable[..., Any]:
    describe = run.describe_training_job

    def staged(*args: Any, **kwargs: Any) -> Any:
        if clocks.first_describe is None:
            with clocks._lock:
                clocks.first_describe = (process_cpu(), sum(clocks.spent.values()))
        local = clocks._local.__dict__
        local["event"], local["began"] = "start", clocks.start()
        try:
            return describe(*args, **kwargs)
        finally:
            clocks.stop(f"{local['event']} -> end", local["began"])

    return staged


def _marking(clocks: Clocks, client: Callable[..., Any]) -> Callable[..., Any]:
    def marked(self: Any, session: Any, service: str, region: str) -> Any:
        made = client(self, session, service, region)
        for event in EVENTS:
            made.meta.events.register_first(
                f"{event}.sagemaker.DescribeTrainingJob", functools.partial(_mark, clocks, event)
            )
        return made

    return marked


def _mark(clocks: Clocks, event: str, **_: Any) -> None:  # must return None
    clocks.stage(event)


def _collections(clocks: Clocks) -> Callable[[str, dict[str, Any]], None]:
    began: dict[int, float] = {}

    def on_collection(phase: str, _info: dict[str, Any]) -> None:
        thread = threading.get_ident()
        if phase == "start":
            began[thread] = clocks.start()
        elif thread in began:
            clocks.stop("garbage collector", began.pop(thread))

    return on_collection


def measure(url: str, out: Path) -> tuple[dict[str, float], dict[str, int], float, int]:
    """(CPU seconds per component, calls per clock, the process's CPU seconds, exit code) of one
    `smi collect` against `url`, writing its records to `out`."""
    from sagemaker_inventory.cli import cli

    clocks = Clocks()
    args = ["collect", "-r", "us-east-1", "--endpoint-url", url, "-o", str(out), "-q"]
    collections = _collections(clocks)
    before = process_cpu()
    with clocked_run(clocks):
        gc.callbacks.append(collections)
        try:
            cli.main(args=[*args, "--format", "jsonl"], prog_name="smi", standalone_mode=False)
            code = 0
        except SystemExit as exc:  # the command's exit code
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            gc.callbacks.remove(collections)
    process = process_cpu() - before
    spent: Counter[str] = Counter()
    for label, seconds in clocks.spent.items():
        spent[STAGES.get(label, label)] += seconds
    if clocks.first_describe is not None:
        at, clocked = clocks.first_describe
        spent[START] = at - before - clocked
    spent[OTHER] = process - sum(spent.values())
    return dict(spent), dict(clocks.calls), process, code


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def fake_process(jobs: int, latency_ms: float) -> Iterator[str]:
    """The fake endpoint in a process of its own (its CPU is not the run's): its URL."""
    command = [sys.executable, str(ROOT / "scripts" / "fake_endpoint.py"), "--full-jobs"]
    command += ["--jobs", str(jobs), "--latency-ms", str(latency_ms), "--port", "0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as fake:
        try:
            assert fake.stdout is not None
            yield fake.stdout.readline().strip()
        finally:
            fake.terminate()


def print_table(spent: dict[str, float], process: float, jobs: int, load: str) -> None:
    print(f"load average {load}; {jobs} jobs; process CPU {1e3 * process / jobs:.2f} ms per job")
    print("| component | ms of CPU per job | share |\n|---|---:|---:|")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {label} | {1e3 * seconds / jobs:.3f} | {100 * seconds / process:.1f}% |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    args = parser.parse_args()
    env = child_env()  # fake keys, no user AWS config
    os.environ.clear()
    os.environ.update(env)
    with fake_process(args.jobs, args.latency_ms) as url, tempfile.TemporaryDirectory() as tmp:
        began = os.getloadavg()[0]
        spent, _, process, code = measure(url, Path(tmp) / "records.jsonl")
        written = len((Path(tmp) / "records.jsonl").read_text().splitlines())
    if code or written != args.jobs:
        print(f"exit code {code}, {written} records for {args.jobs} jobs", file=sys.stderr)
        return 1
    print_table(spent, process, args.jobs, f"{began:.2f} -> {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
