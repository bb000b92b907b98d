"""Ctrl-C at any moment (issue 10): exit 130 and one clean line, also before the run installs its
handlers, and never drawn into the live progress display."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from signalled_run import signal_mid_run, slow_cli_script

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
