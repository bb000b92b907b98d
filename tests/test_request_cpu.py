"""scripts/request_cpu.py: a request's CPU split into the stages botocore's events mark."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import request_cpu
from fake_endpoint import FakeConfig, start_fake


def test_every_client_gets_every_stage_and_the_stages_add_up_to_the_request() -> None:
    server, state = start_fake(FakeConfig(jobs=3, full_jobs=True))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        spent = request_cpu.measure(request_cpu.make_clients(url), rounds=1, block=2)
    finally:
        server.shutdown()
    assert set(spent) == {
        "smi",
        "no-validation",
        "checksum-required",
        "fixed-ua",
        "plain-botocore",
    }
    starts, ends = ("start", *request_cpu.EVENTS), (*request_cpu.EVENTS, "end")
    stages = [f"{a} -> {b}" for a, b in zip(starts, ends, strict=True)]
    for counts in spent.values():
        assert list(counts) == [*stages, "total"]
        assert abs(sum(counts[s] for s in stages) - counts["total"]) < 1e-6
    # Two warm-up and two counted calls per client.
    assert state.stats.requests["DescribeTrainingJob"] == 4 * len(spent)
