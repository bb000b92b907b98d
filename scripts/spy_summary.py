"""Where smi's CPU went, by component, from a py-spy recording in its raw (collapsed) format.

Recorded with `--gil` (as bench.py does), py-spy samples the thread that holds the GIL, so each
sample is a moment of Python's CPU (code that releases the GIL, such as a TLS handshake or a
socket read, is not counted; without `--gil` a thread blocked in a socket read counts too).
Only the samples of smi's processes (`-m sagemaker_inventory` and the worker processes it
spawns) count: a recording made by `scripts/bench.py --py-spy FILE` also holds
the fake endpoint's. Each sample goes to the first component, in the order below, with a frame on
its stack: imports and start-up, role sessions, clients, records, then the API calls (split the
same way: parsing, HTTP, signing, ...), then everything else of smi.

    python scripts/spy_summary.py /tmp/smi.raw
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# (component, a pattern one of the sample's frames matches), first match wins.
ON_STACK: tuple[tuple[str, str], ...] = (
    ("start-up (imports, models, arguments)", r"^_find_and_load |^main \(sagemaker_inventory/"),
    ("role sessions (build, AssumeRole)", r"_build_role_session|fetch_credentials|new_session"),
    ("clients (create_client)", r"create_client \("),
    ("records (to_record)", r"^to_record |sagemaker_inventory/records/"),
    ("output (sinks, pipes to the parent)", r"sagemaker_inventory/output/|Outbox|connection\.py"),
)
# For samples inside an API call: the first of these with a frame on the stack decides.
IN_API_CALL: tuple[tuple[str, str], ...] = (
    ("API: parsing and checking answers", r"ResponseParser\.parse|answer_checks"),
    ("API: HTTP (urllib3, http.client, sockets)", r"URLLib3Session\.send|urllib3/"),
    ("API: signing, credentials", r"RequestSigner|botocore/auth|botocore/credentials"),
    ("API: endpoint resolution", r"_resolve_endpoint_ruleset|endpoint_provider"),
    (
        "API: each operation's model, on a client's first call of it",
        r"has_event_stream_output|has_streaming_output|OperationModel",
    ),
    ("API: request building (validation, serialization, User-Agent)", r"_convert_to_request_dict"),
    (
        "API: retries, pacing, metering",
        r"botocore/retries|aws/pacing|aws/metering|retry_waits|adaptive_rate",
    ),
    ("API: event hooks", r"botocore/hooks"),
)
API_CALL = r"_make_api_call \("
OTHER_API = "API: other botocore (request building, models, ...)"
RUN = "run (scope orchestration, sessions' lock, logging)"
THREADS = "threads (start, hand-over)"
NATIVE = "no Python frame (interpreter, garbage collector)"
# A process's command line may hold ";" (`python -c "...; spawn_main(...)"`).
PROCESS = re.compile(r'process \d+:"((?:[^"]|"(?!;|$))*)"(?:;|$)')
PROCESSES = re.compile(rf"(?:{PROCESS.pattern})+")
SMI_COMMAND = re.compile(r"-m sagemaker_inventory|multiprocessing")


def read_samples(path: Path) -> Iterable[tuple[list[str], int]]:
    """(frames root first, count) of each smi stack in a raw py-spy recording."""
    with path.open(errors="replace") as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            processes = PROCESSES.match(stack)
            commands = PROCESS.findall(processes[0]) if processes else []
            if not commands or not SMI_COMMAND.search(commands[-1]):
                continue
            rest = stack[processes.end() :] if processes else stack
            yield [frame for frame in rest.split(";") if frame], int(count)


def component_of(frames: list[str]) -> str:
    if not frames:
        return NATIVE
    for name, pattern in ON_STACK:
        if any(re.search(pattern, frame) for frame in frames):
            return name
    if any(re.search(API_CALL, frame) for frame in frames):
        for name, pattern in IN_API_CALL:
            if any(re.search(pattern, frame) for frame in frames):
                return name
        return OTHER_API
    return THREADS if "(threading.py:" in frames[-1] else RUN


def summarize(path: Path) -> Counter[str]:
    shares: Counter[str] = Counter()
    for frames, count in read_samples(path):
        shares[component_of(frames)] += count
    return shares


def print_summary(shares: Counter[str]) -> None:
    total = sum(shares.values()) or 1
    print(f"| component | share of smi's CPU samples ({total:,}) |")
    print("|---|---:|")
    for name, count in shares.most_common():
        print(f"| {name} | {count / total:.1%} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="py-spy record --format raw output")
    args = parser.parse_args(argv)
    shares = summarize(args.raw)
    if not shares:
        print(f"{args.raw}: no sample of smi's processes", file=sys.stderr)
        return 1
    print_summary(shares)
    return 0


if __name__ == "__main__":
    sys.exit(main())
