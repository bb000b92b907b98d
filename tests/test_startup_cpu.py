"""scripts/startup_cpu.py: the start-up CPU figure, measured to the first connection."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import startup_cpu

ROOT = Path(__file__).resolve().parent.parent


def test_a_run_stops_at_its_first_connection_and_reports_its_cpu(tmp_path: Path) -> None:
    # Nothing need listen: the wrapped connect ends the process before it connects.
    seconds = startup_cpu.startup_cpu(ROOT, "http://127.0.0.1:9", tmp_path / "out.jsonl")
    assert seconds > 0
    assert not (tmp_path / "out.jsonl").exists()  # the run never got as far as its output
