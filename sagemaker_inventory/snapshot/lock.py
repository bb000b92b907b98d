"""One run per snapshot: an exclusive, non-blocking lock on FILE.lock beside the snapshot FILE.

`snapshot_lock` takes an fcntl.flock on the lock file and refuses at once (`SnapshotLocked`) when
another process holds it: a cron run that overlaps the previous one must fail loudly, not wait or
interleave writes. The kernel drops the lock when the holder exits, even on SIGKILL, so a crashed
run never leaves a stale lock behind. The lock file stays on disk after the run: unlinking it would
let a third run lock a fresh file while a second still holds the old, unlinked one. It holds the
holder's pid, only to name it in the message, and gets the run's --file-mode like every other file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_SUFFIX = ".lock"


class SnapshotLocked(RuntimeError):
    """Another run holds the lock of this snapshot."""

    def __init__(self, snapshot: Path, lock: Path, holder: int | None) -> None:
        who = f"another smi run (pid {holder})" if holder else "another smi run"
        super().__init__(
            f"{snapshot} is in use by {who}: refusing to run at the same time "
            f"(lock file {lock}; it is released when that run ends)"
        )
        self.snapshot, self.lock, self.holder = snapshot, lock, holder


def lock_path_for(snapshot: str | os.PathLike[str]) -> Path:
    """FILE.lock beside FILE."""
    path = Path(snapshot)
    return path.with_name(path.name + LOCK_SUFFIX)


@contextlib.contextmanager
def snapshot_lock(snapshot: str | os.PathLike[str], *, mode: int = 0o600) -> Iterator[Path]:
    """Hold the lock of `snapshot` for the block; raise SnapshotLocked at once if it is taken."""
    lock = lock_path_for(snapshot)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
    try:
        _set_mode(fd, mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SnapshotLocked(Path(snapshot), lock, _read_pid(fd)) from None
        _write_pid(fd)
        try:
            yield lock
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _set_mode(fd: int, mode: int) -> None:
    """`mode` exactly, not as the umask leaves it: a world-writable lock would let any local user
    hold it and make every run exit 4. Someone else's lock file keeps its mode (EPERM)."""
    with contextlib.suppress(PermissionError):
        os.fchmod(fd, mode)


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _read_pid(fd: int) -> int | None:
    # Best effort: the holder may be between truncating and writing its pid.
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        return int(text) if text else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
