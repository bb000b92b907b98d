"""--connect-timeout and --read-timeout (issue 19 part 3): bad values are exit 2 naming them; an
endpoint that accepts and never answers, and one that refuses, fail their own scopes once their
attempts have timed out, while another profile's records are written."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from conftest import running_moto_server
from test_cli_endpoint import seed_served_jobs

from sagemaker_inventory.cli import cli

KEYS = "aws_access_key_id = testing\naws_secret_access_key = testing\n"


@pytest.mark.parametrize("option", ["--connect-timeout", "--read-timeout"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf"])
def test_a_bad_timeout_is_a_usage_error_naming_it(option: str, value: str) -> None:
    result = CliRunner().invoke(cli, ["collect", "-r", "us-east-1", f"{option}={value}"])
    assert result.exit_code == 2
    assert option in result.stderr and repr(value) in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback server that accepts every connection and never answers."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return  # closed: the test is over
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in held:
            connection.close()


@pytest.fixture
def refused_endpoint() -> str:
    with socket.socket() as probe:  # a loopback port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def served() -> Iterator[str]:
    with running_moto_server() as url:
        seed_served_jobs(url)
        # Every backend the run asks is loaded now, so no first answer is slow to come.
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        boto3.client("sts", "us-east-1", endpoint_url=url, **keys).get_caller_identity()
        tagging = boto3.client("resourcegroupstaggingapi", "us-east-1", endpoint_url=url, **keys)
        tagging.get_resources()
        yield url


def test_a_silent_and_a_refusing_endpoint_fail_their_scopes_and_the_others_are_written(
    served: str,
    silent_endpoint: str,
    refused_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "".join(
            f"[profile {name}]\nregion = us-east-1\nendpoint_url = {url}\n{KEYS}"
            for name, url in (
                ("good", served),
                ("silent", silent_endpoint),
                ("refused", refused_endpoint),
            )
        )
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # two attempts of each call, then the scope fails
    report = tmp_path / "run.json"
    args = ["collect", "-r", "us-east-1", "--report", str(report)]
    args += ["--profile", "good", "--profile", "silent", "--profile", "refused"]
    result = CliRunner().invoke(cli, [*args, "--connect-timeout", "2", "--read-timeout", "3"])
    assert result.exit_code == 3, result.stderr  # partial
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["training_job_name"] for r in records) == ["served-a", "served-b"]
    document = json.loads(report.read_text())
    failed = {s["error"]["message"] for s in document["scopes"] if s["status"] == "failed"}
    assert len(failed) == 2
    assert any("Read timeout" in m and silent_endpoint in m for m in failed), failed
    assert any("Could not connect" in m and refused_endpoint in m for m in failed), failed
    assert document["timeouts"] == {"connect_seconds": 2.0, "read_seconds": 3.0}
    assert document["retry"]["max_attempts"] == 2
