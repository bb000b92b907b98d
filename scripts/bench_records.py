"""CPU per record after its DescribeTrainingJob answer: conversion, redaction, the JSON line, and
a scope's ordering of results, in microseconds of `time.thread_time` (ordering: of the whole
process, since the describe threads do its work).

Each stage runs on one fully populated job (every member of botocore's output shape at every
depth: scripts/fake_endpoint.py's `full_job`, as sent, with epoch-second timestamps, and
tests/model_responses.py's `full_response`, as botocore parses it, with datetimes) in bursts,
stages interleaved, and the fastest burst is kept: on a shared machine contention only ever adds
CPU time. Run it on two checkouts one after the other to compare them:

    PYTHONPATH=. python3 scripts/bench_records.py
    (cd /path/to/other/checkout && PYTHONPATH=. python3 /path/to/scripts/bench_records.py)
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path.cwd()
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

from fake_endpoint import full_job  # noqa: E402
from model_responses import full_response  # noqa: E402

from sagemaker_inventory.aws.service_models import sagemaker_model  # noqa: E402
from sagemaker_inventory.output.sinks import JsonLinesSink  # noqa: E402
from sagemaker_inventory.records.redaction import RedactionRules, redact  # noqa: E402
from sagemaker_inventory.records.shape import describe_output_shape, to_record  # noqa: E402

BURST = 20
ORDERED_ITEMS = 1000
WORKERS = 16  # the window is 4 workers' worth, as a scope's


def stages(response: dict[str, Any], *, all_fields: bool) -> dict[str, Callable[[], object]]:
    shape = describe_output_shape(sagemaker_model())
    rules = RedactionRules()

    def convert() -> dict[str, Any]:
        return to_record(
            response,
            account_id="123456789012",
            tags=["team:ml"],
            all_fields=all_fields,
            shape=shape,
        )

    record = convert()
    redacted = redact(record, rules, shape)
    stream = io.StringIO()
    sink = JsonLinesSink(stream)

    def write() -> None:
        stream.seek(0)
        stream.truncate()
        sink.write(redacted)

    return {"to_record": convert, "redact": lambda: redact(record, rules, shape), "jsonl": write}


def ordering() -> Callable[[], None]:
    """A scope's ordering machinery over ORDERED_ITEMS items whose work does nothing."""
    items = [{"TrainingJobName": f"job-{i}"} for i in range(ORDERED_ITEMS)]
    try:
        from sagemaker_inventory.collect.in_order import in_order
    except ImportError:  # a checkout from before collect/in_order.py
        from concurrent.futures import ThreadPoolExecutor

        from sagemaker_inventory.collect import run

        def run_pool() -> None:
            with ThreadPoolExecutor(WORKERS, thread_name_prefix="describe") as pool:
                for _ in run._in_order(iter(items), lambda x: x, pool, 4 * WORKERS):
                    pass

        return run_pool

    def run_in_order() -> None:
        for _ in in_order(items, lambda x: x, workers=WORKERS, window=4 * WORKERS, thread_name="d"):
            pass

    return run_in_order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100, help="bursts per stage (default 100)")
    args = parser.parse_args()
    as_sent = full_job(3)
    parsed = full_response(3)
    parsed.pop("ResponseMetadata")
    cases = {
        (form, all_fields): stages(response, all_fields=all_fields)
        for form, response in (("as sent", as_sent), ("parsed", parsed))
        for all_fields in (False, True)
    }
    best: dict[tuple[Any, str], float] = {}
    order = ordering()
    for round_ in range(args.rounds):
        for case, timed in cases.items():
            for stage, run in timed.items():
                started = time.thread_time()
                for _ in range(BURST):
                    run()
                spent = (time.thread_time() - started) / BURST * 1e6
                best[case, stage] = min(best.get((case, stage), spent), spent)
        if round_ % 10 == 0:  # a thousand items a time: every tenth round
            started = time.process_time()
            order()
            spent = (time.process_time() - started) / ORDERED_ITEMS * 1e6
            best["ordering", ""] = min(best.get(("ordering", ""), spent), spent)
    print("µs of CPU per record   to_record  redact   jsonl    sum")
    for (form, all_fields), timed in cases.items():
        figures = [best[(form, all_fields), stage] for stage in timed]
        label = f"{form}{' --all-fields' if all_fields else ''}"
        print(f"{label:22} " + " ".join(f"{f:8.1f}" for f in figures) + f" {sum(figures):7.1f}")
    print(f"ordering (per item, all threads): {best['ordering', '']:.1f}")


if __name__ == "__main__":
    main()
