"""CPU that `smi collect` spends before its first request: from process start to its first connect.

Runs `smi collect -r us-east-1 --endpoint-url URL -o FILE --format jsonl -q` again and again, each
time in a fresh interpreter whose `socket.connect` is wrapped to print the process's CPU time
(user + system, `os.times`) at the first connection and end the process there; prints the median
and the minimum. CPU, not wall time, so that a busy machine skews it less. `--source DIR` (repeat
it) runs smi from other source trees too, interleaved run by run, for a before/after comparison.
Start the endpoint first (nothing is written to it but the one connection):

    python scripts/fake_endpoint.py --jobs 1000 --full-jobs --port 18600 &
    python scripts/startup_cpu.py http://127.0.0.1:18600 --runs 15 --source /path/to/old/checkout
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import REGION, VARIANT_LAUNCHER, child_env

ROOT = Path(__file__).resolve().parent.parent

FIRST_CONNECT = """
import os, socket, sys
def first_connect(self, address):
    times = os.times()
    sys.__stdout__.write(f"{times.user + times.system:.3f}\\n")
    sys.__stdout__.flush()
    os._exit(0)
socket.socket.connect = first_connect
"""


def startup_cpu(source: Path, url: str, out: Path) -> float:
    """One run's CPU seconds to its first connect, smi run from `source`."""
    cmd = [sys.executable, "-c", FIRST_CONNECT + VARIANT_LAUNCHER, str(source), "collect"]
    cmd += ["-r", REGION, "--endpoint-url", url, "-o", str(out), "--format", "jsonl", "-q"]
    done = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, check=False)
    lines = done.stdout.split()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{source}: no connection was made:\n{done.stderr}")
    return float(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the endpoint smi connects to (e.g. the fake's)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--source", action="append", default=[], help="another source tree")
    args = parser.parse_args(argv)
    sources = [ROOT, *(Path(s).resolve() for s in args.source)]
    seconds: dict[Path, list[float]] = {source: [] for source in sources}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for source in sources:
                seconds[source].append(startup_cpu(source, args.url, Path(tmp) / "out.jsonl"))
    for source, values in seconds.items():
        print(
            f"{source}: median {statistics.median(values):.3f} s,"
            f" min {min(values):.3f} s of CPU to the first request ({len(values)} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
