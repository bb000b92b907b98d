"""smi as a real process: `python -m sagemaker_inventory`, the demo, and a reader that goes away."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_streams_jsonl_and_stops_quietly_when_the_reader_goes_away() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sagemaker_inventory", "collect", "--demo", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    lines = [process.stdout.readline() for _ in range(3)]  # what `| head -3` reads
    process.stdout.close()
    stderr = process.stderr.read()
    code = process.wait(timeout=120)
    records = [json.loads(line) for line in lines]
    assert all(r["account_id"] == "123456789012" for r in records)
    assert "DEMO DATA" in stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert code == 0


def test_module_entry_point_matches_the_console_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_inventory", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("smi, version ")
