"""snapshot_lock: a second run is refused at once; the lock ends with its holder (even SIGKILL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagemaker_inventory.snapshot.lock import SnapshotLocked, lock_path_for, snapshot_lock

HOLDER = """
import sys
from sagemaker_inventory.snapshot.lock import snapshot_lock
with snapshot_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return tmp_path / "inventory.jsonl"


@pytest.fixture
def holder(snap: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the snapshot's lock until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(snap)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "locked\n"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def test_a_lock_held_by_another_process_is_refused_at_once(
    snap: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(SnapshotLocked) as caught, snapshot_lock(snap):
        pytest.fail("the lock was granted twice")
    message = str(caught.value)
    assert str(snap) in message
    assert f"pid {holder.pid}" in message
    assert str(lock_path_for(snap)) in message
    assert caught.value.holder == holder.pid


def test_the_lock_is_free_again_when_the_holder_ends(
    snap: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0
    with snapshot_lock(snap) as lock:
        assert lock == lock_path_for(snap)


def test_a_killed_holder_leaves_no_stale_lock(snap: Path, holder: subprocess.Popen[str]) -> None:
    holder.kill()  # SIGKILL: no cleanup code runs; the kernel drops the flock
    holder.wait(timeout=30)
    with snapshot_lock(snap):
        pass


def test_a_second_lock_in_the_same_process_is_refused_too(snap: Path) -> None:
    with snapshot_lock(snap), pytest.raises(SnapshotLocked), snapshot_lock(snap):
        pytest.fail("the lock was granted twice")


def test_the_lock_file_stays_private_and_names_its_holder_only_while_held(snap: Path) -> None:
    lock = lock_path_for(snap)
    assert lock.name == "inventory.jsonl.lock"
    with snapshot_lock(snap):
        assert lock.read_text().strip().isdigit()
        assert lock.stat().st_mode & 0o777 == 0o600
    assert lock.exists() and lock.read_text() == ""
    with snapshot_lock(snap):  # reusable after release
        pass
