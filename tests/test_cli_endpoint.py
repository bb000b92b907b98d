"""--endpoint-url and AWS_ENDPOINT_URL send every call to a server of ours (moto on 127.0.0.1)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from conftest import running_moto_server
from jobs import create_jobs

from sagemaker_inventory.cli import cli


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    with running_moto_server() as url:
        yield seed_served_jobs(url)


def seed_served_jobs(url: str) -> str:
    client = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    create_jobs("us-east-1", ["served-a", "served-b"], {"via": "server"}, client=client)
    return url


def names(stdout: str) -> list[str]:
    return sorted(json.loads(line)["training_job_name"] for line in stdout.splitlines())


def test_endpoint_url_option_reaches_the_server(moto_server: str) -> None:
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1", "--endpoint-url", moto_server])
    assert result.exit_code == 0, result.stderr
    assert names(result.stdout) == ["served-a", "served-b"]
    assert all(json.loads(line)["tags"] == ["via:server"] for line in result.stdout.splitlines())


def test_aws_endpoint_url_is_honoured_as_botocore_does(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1"])
    assert result.exit_code == 0, result.stderr
    assert names(result.stdout) == ["served-a", "served-b"]


def test_region_names_are_checked_even_with_an_endpoint(moto_server: str) -> None:
    result = CliRunner().invoke(
        cli, ["collect", "-r", "mars-north-1", "--endpoint-url", moto_server]
    )
    assert result.exit_code == 2
    assert "mars-north-1" in result.stderr and result.stdout == ""


# What a quiet run to a JSON-lines file never needs: rich (it prints nothing), the demo, the
# snapshot's code (no --snapshot), boto3 (its sessions are botocore's), multiprocessing and the
# worker processes' side (one process).
UNUSED_BY_A_QUIET_RUN = frozenset(
    {
        "boto3",
        "multiprocessing",
        "rich",
        "sagemaker_inventory.collect.process_worker",
        "sagemaker_inventory.demo",
        "sagemaker_inventory.snapshot.index",
        "sagemaker_inventory.snapshot.writer",
    }
)


def test_quiet_jsonl_run_loads_only_what_it_uses(moto_server: str, tmp_path: Path) -> None:
    """The stderr console, the progress display, the table, the demo, the snapshot and worker
    processes load only when they are used, and sessions need no boto3: a quiet run to a
    JSON-lines file imports none of them."""
    out = tmp_path / "inventory.jsonl"
    args = ["collect", "-r", "us-east-1", "--endpoint-url", moto_server, "-q"]
    args += ["--format", "jsonl", "-o", str(out)]
    code = (
        "import sys\n"
        "from sagemaker_inventory.cli import cli\n"
        f"try:\n    cli.main({args!r}, prog_name='smi')\nexcept SystemExit as exc:\n"
        "    print(exc.code)\n"
        f"print(sorted(set(sys.modules).intersection({sorted(UNUSED_BY_A_QUIET_RUN)!r})))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines()[-2:] == ["0", "[]"], run.stderr
    assert run.stderr == ""
    assert names(out.read_text()) == ["served-a", "served-b"]
