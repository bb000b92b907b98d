"""scripts/job_cpu.py: a one-region run's CPU split into smi's steps and botocore's stages."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import job_cpu
from fake_endpoint import FakeConfig, start_fake

from sagemaker_inventory.collect import run


def test_every_job_passes_every_clock_and_the_components_add_up_to_the_run(
    tmp_path: Path,
) -> None:
    server, state = start_fake(FakeConfig(jobs=4, full_jobs=True))
    try:
        out = tmp_path / "records.jsonl"
        spent, calls, process, code = job_cpu.measure(server.url, out)
    finally:
        server.shutdown()
    assert code == 0
    assert len(out.read_text().splitlines()) == 4
    for step in ("to_record", "redaction", "JSON encoding", "writing the line"):
        assert calls[next(label for label in calls if step in label)] == 4
    # Each describe passes through every stage; smi's handlers ran on every request.
    assert calls["before-parse -> needs-retry"] == state.stats.requests["DescribeTrainingJob"] == 4
    assert set(job_cpu.STAGES.values()) <= set(spent)
    assert calls[job_cpu.HOOKS] > 4
    assert abs(sum(spent.values()) - process) < 1e-9


def test_the_clocks_are_taken_off_once_the_run_is_measured(tmp_path: Path) -> None:
    from sagemaker_inventory.aws import metering, pacing

    before = (run.to_record, run.describe_training_job, metering.ApiMeter._on_call, pacing._waiter)
    with job_cpu.clocked_run(job_cpu.Clocks()):
        assert run.to_record is not before[0]
    after = (run.to_record, run.describe_training_job, metering.ApiMeter._on_call, pacing._waiter)
    assert after == before
