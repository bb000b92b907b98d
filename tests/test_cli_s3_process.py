"""Issue 22.1: S3 destinations in smi's own process, against a moto server (--endpoint-url):
--processes N brings every record back to the parent, which writes the objects; SIGTERM mid-run
exits 143 and leaves every object as it was, its lock released."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import running_moto_server
from jobs import create_jobs
from signalled_run import signal_mid_run, slow_cli_script

BUCKET = "smi-state"
SNAP, DELTA = f"s3://{BUCKET}/inv.jsonl", f"s3://{BUCKET}/delta.jsonl"
OUT, REPORT = f"s3://{BUCKET}/out.jsonl", f"s3://{BUCKET}/run.json"
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def server() -> Iterator[tuple[str, Any]]:
    with running_moto_server() as url:
        # The server shares this process's moto backends: start from an empty one.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=url)
        s3.create_bucket(Bucket=BUCKET)
        for region in REGIONS:
            client = boto3.client("sagemaker", region_name=region, endpoint_url=url)
            create_jobs(region, [f"{region}-{n}" for n in range(4)], client=client)
        yield url, s3


def objects(s3: Any) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def smi(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sagemaker_inventory", "collect", "--endpoint-url", url]
    return subprocess.run(
        [*command, "-r", ",".join(REGIONS), *args],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_processes_bring_records_back_to_the_s3_objects(server: tuple[str, Any]) -> None:
    url, s3 = server
    args = ["--processes", "2", "--snapshot", SNAP, "--changes", DELTA, "-o", OUT]
    first = smi(url, *args, "--report", REPORT)
    assert first.returncode == 0, first.stderr
    written = objects(s3)
    assert len(written["inv.jsonl"].splitlines()) == 8
    assert len(written["out.jsonl"].splitlines()) == 8
    assert json.loads(written["run.json"])["totals"]["jobs"] == 8
    second = smi(url, *args)
    assert second.returncode == 0, second.stderr
    assert "0 added, 0 changed, 0 removed; 8 reused" in second.stderr  # read in the workers
    assert objects(s3)["delta.jsonl"] == b""


def test_sigterm_mid_run_leaves_every_object_as_it_was(
    server: tuple[str, Any], tmp_path: Path
) -> None:
    url, s3 = server
    args = ["--snapshot", SNAP, "--changes", DELTA, "-o", OUT, "--report", REPORT]
    assert smi(url, *args, "--processes", "1").returncode == 0
    before = objects(s3)
    s3.delete_object(Bucket=BUCKET, Key="inv.jsonl")  # every job is described again: slowly
    before.pop("inv.jsonl")
    script = tmp_path / "slow.py"
    script.write_text(
        slow_cli_script("from sagemaker_inventory.cli import main; main(args=sys.argv[1:])")
    )
    command = [sys.executable, str(script), "collect", "--endpoint-url", url, "-r", REGIONS[0]]
    code, err = signal_mid_run([*command, *args, "--processes", "1"], tmp_path, signal.SIGTERM)
    assert code == 143, err
    assert err.rstrip().endswith("no file was changed")
    assert objects(s3) == before  # the lock released, nothing else changed


# smi with the S3 lock's acquisition stuck (a wait no stop reaches): "waiting" on stdout first.
STUCK_LOCK = """
import sys, time
from sagemaker_inventory.aws import s3_lock

def stuck(self):
    print("waiting", flush=True)
    time.sleep(60)

s3_lock.S3Lock.acquire = stuck
from sagemaker_inventory.cli import main
main(args=sys.argv[1:])
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_while_the_lock_is_awaited_ends_the_run_and_changes_nothing(
    server: tuple[str, Any], tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    url, s3 = server
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_LOCK)
    command = [sys.executable, str(script), "collect", "--endpoint-url", url, "-r", REGIONS[0]]
    returncode, err = signal_mid_run(
        [*command, "--snapshot", SNAP, "-o", OUT], signum=signum, ready="waiting\n"
    )
    assert returncode == code, err
    assert err.rstrip().endswith("no file was changed")
    assert objects(s3) == {}
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
