"""Issue 12.2, 12.4 and 12.8: the files one run writes never overlap, a redacting run redacts
every record it writes, and the lock follows the real snapshot file with --file-mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from jobs import backend_job, create_jobs, delete_job

from sagemaker_inventory.cli import cli
from sagemaker_inventory.snapshot.index import SnapshotSettings
from sagemaker_inventory.snapshot.lock import SnapshotLocked, snapshot_lock
from sagemaker_inventory.snapshot.writer import snapshot_session


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "args",
    [
        ["--snapshot", "s.jsonl", "--report", "s.jsonl"],
        ["-o", "out.jsonl", "--report", "out.jsonl"],
        ["--snapshot", "s.jsonl", "--changes", "s.jsonl.meta.json"],
        # -f: an unknown suffix (.lock) alone is already exit 2 (it says which suffixes smi writes)
        ["--snapshot", "s.jsonl", "-o", "s.jsonl.lock", "-f", "jsonl"],
        ["--snapshot", "s.jsonl", "--report", "s.jsonl.lock"],
        ["--snapshot", "s.jsonl", "--changes", "link.jsonl"],  # a symlink to s.jsonl
        ["--snapshot", "link.jsonl", "-o", "./s.jsonl"],
        ["--snapshot", "s.jsonl", "--report", "hard.jsonl"],  # a hard link to s.jsonl
    ],
)
def test_two_outputs_naming_one_file_are_exit_2_before_any_call(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: --report given the snapshot's path replaced the inventory with the report."""
    monkeypatch.chdir(tmp_path)
    Path("s.jsonl").write_text("")
    Path("link.jsonl").symlink_to("s.jsonl")
    os.link("s.jsonl", "hard.jsonl")
    # No moto: a call to AWS would fail the run with exit 1, not 2.
    result = run("collect", "-r", "us-east-1", *args)
    assert result.exit_code == 2, result.stderr
    assert "name the same file" in result.stderr
    assert Path("s.jsonl").read_text() == ""


@pytest.mark.usefixtures("moto_aws")
def test_dev_null_may_take_several_outputs(tmp_path: Path) -> None:
    create_jobs("us-east-1", ["a"])
    result = run("collect", "-r", "us-east-1", "-o", "/dev/null", "--report", "/dev/null", "-q")
    assert result.exit_code == 0, result.stderr


@pytest.mark.usefixtures("moto_aws")
def test_removed_and_carried_records_of_a_no_redact_snapshot_are_redacted(
    tmp_path: Path,
) -> None:
    """Regression: --changes wrote a removed job's record from the old --no-redact line as is."""
    create_jobs("us-east-1", ["a", "b"])
    create_jobs("eu-west-1", ["c"])
    for region, name in (("us-east-1", "a"), ("us-east-1", "b"), ("eu-west-1", "c")):
        backend_job(region, name).hyper_parameters["db_password"] = "hunter2"
    snap, changes = tmp_path / "inv.jsonl", tmp_path / "delta.jsonl"
    first = run(
        "collect", "-r", "us-east-1,eu-west-1", "--snapshot", str(snap), "--no-redact", "-q"
    )
    assert first.exit_code == 0 and "hunter2" in snap.read_text()
    delete_job("us-east-1", "b")
    # The sidecar is lost (a crash, a hand edit): records must be redacted all the same.
    (tmp_path / "inv.jsonl.meta.json").unlink()
    second = run(
        "collect", "-r", "us-east-1", "--snapshot", str(snap), "--changes", str(changes), "-q"
    )
    assert second.exit_code == 0, second.stderr
    removed = [c for c in lines(changes) if c["op"] == "removed"]
    assert [c["record"]["training_job_name"] for c in removed] == ["b"]
    assert removed[0]["record"]["hyper_parameters"]["db_password"] == "<redacted>"
    assert "hunter2" not in changes.read_text()
    assert "hunter2" not in snap.read_text()  # eu-west-1 was carried over, redacted too


def test_the_lock_follows_the_real_file_through_a_symlink(tmp_path: Path) -> None:
    """Regression: FILE.lock was beside the name given, so two names of one snapshot ran twice."""
    real = tmp_path / "data" / "inv.jsonl"
    real.parent.mkdir()
    real.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    settings = SnapshotSettings()
    with (
        snapshot_session(real, settings),
        pytest.raises(SnapshotLocked),
        snapshot_session(link, settings),
    ):
        pass
    assert not (tmp_path / "link.jsonl.lock").exists()


def test_the_lock_file_gets_the_file_mode_not_the_umask(tmp_path: Path) -> None:
    """Regression: the lock file's mode followed the umask (world-writable under umask 0)."""
    snap = tmp_path / "inv.jsonl"
    lock = tmp_path / "inv.jsonl.lock"
    lock.write_text("")
    lock.chmod(0o666)
    old = os.umask(0)
    try:
        with snapshot_lock(snap, mode=0o640):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(lock.stat().st_mode) == 0o640
