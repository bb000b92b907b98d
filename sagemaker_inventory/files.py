"""Safe output files for `smi collect --output`: check the destination first, then write atomically.

`check_destination` lets the CLI refuse an unusable path before any AWS call is made.
`atomic_writer` writes to a hidden temporary file beside the target and moves it into place only
when the whole output was written, so an interrupted or failed run (Ctrl-C included) never leaves a
truncated file and never touches an existing one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


class DestinationError(ValueError):
    """The output path cannot be written: missing or unusable directory, or a directory itself."""


def check_destination(path: str | os.PathLike[str]) -> None:
    """Raise DestinationError unless a file can be created at `path`."""
    target = Path(path)
    directory = target.parent
    if not directory.exists():
        raise DestinationError(f"{target}: directory {directory} does not exist")
    if not directory.is_dir():
        raise DestinationError(f"{target}: {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DestinationError(f"{target}: directory {directory} is not writable")
    if target.is_dir():
        raise DestinationError(f"{target}: is a directory")


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str], *, mode: int = 0o600, encoding: str = "utf-8"
) -> Iterator[TextIO]:
    """Yield a text stream whose content replaces `path` only if the block completes.

    The stream uses newline="" so the csv module controls line endings. `mode` is applied
    explicitly (not through the umask), also when an existing file had wider permissions.

    A symlink's target is replaced, not the link. A device or FIFO (`-o /dev/null`, a named
    pipe) is written in place: renaming over it would replace the device with a regular file.
    """
    target = Path(os.path.realpath(path))
    if _is_special_file(target):
        with target.open("w", encoding=encoding, newline="") as stream:
            yield stream
        return
    directory = target.parent
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        temp.chmod(mode)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _is_special_file(path: Path) -> bool:
    try:
        kind = path.stat().st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(kind) and not stat.S_ISDIR(kind)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; skipped where directories cannot be opened (Windows)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        # Some filesystems (certain network and FUSE mounts) refuse fsync on a directory.
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
