"""smi in a process of its own, stopped by a signal mid-run: what the signal tests share.

`slow_cli_script` is a script running smi with a JSON lines sink that writes slowly: each record
prints "written" to the real stdout and takes 0.3 s, so a signal sent after the first "written"
lands mid-run. `signal_mid_run` starts it, sends the signal and returns the exit code and stderr.
`previous_files` and `files_in` show that a stopped run changed no file.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

_SLOW_SINK = """
import sys, time
from sagemaker_inventory.output import sinks

original_write = sinks.JsonLinesSink.write

def slow_write(self, record):
    original_write(self, record)
    print("written", file=sys.__stdout__, flush=True)
    time.sleep(0.3)

sinks.JsonLinesSink.write = slow_write
"""


def slow_cli_script(run: str, patches: str = "") -> str:
    """The slow-sink script: `patches` (more top-level code), then `run`, the statement that runs
    smi, under `if __name__ == "__main__":` (--processes workers are spawned: they import this
    script again and must not run smi)."""
    return f'{_SLOW_SINK}{patches}\nif __name__ == "__main__":\n    {run}\n'


def signal_mid_run(
    command: Sequence[str], cwd: Path, signum: signal.Signals = signal.SIGTERM
) -> tuple[int, str]:
    """Run `command` (a slow_cli_script), send `signum` once it wrote its first record, and return
    its exit code and stderr; a process that outlives the test is killed."""
    process = subprocess.Popen(
        list(command), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "written\n"
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    return process.returncode, err


def previous_files(work: Path, account_id: str) -> dict[str, bytes]:
    """In a new folder `work`, what an earlier run left: s.jsonl, a snapshot holding one job of
    `account_id` in us-east-1, and o.jsonl; returns files_in(work)."""
    work.mkdir()
    arn = f"arn:aws:sagemaker:us-east-1:{account_id}:training-job/old"
    record = {"account_id": account_id, "training_job_arn": arn}
    (work / "s.jsonl").write_text(json.dumps(record) + "\n")
    (work / "o.jsonl").write_text("previous\n")
    return files_in(work)


def files_in(work: Path) -> dict[str, bytes]:
    """Every file's bytes, by name, but the snapshot's lock file (a run may leave it behind)."""
    return {p.name: p.read_bytes() for p in work.iterdir() if p.name != "s.jsonl.lock"}
