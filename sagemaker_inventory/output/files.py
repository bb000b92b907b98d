"""Safe output files for `smi collect --output`: check the destination first, then write atomically.

`check_destination` lets the CLI refuse an unusable path before any AWS call is made.
`atomic_writer` writes to a hidden temporary file beside the target and moves it into place only
when the whole output was written, so an interrupted or failed run (Ctrl-C included) never leaves a
truncated file and never touches an existing one. A write that fails (full disk, file-size limit)
raises `WriteFailed` naming the file and the OS error, and the temporary file is removed; the
temporary files of runs that were killed are removed by the next write of the same target (their
name carries the writer's pid). `named_stream` gives stdout the same `WriteFailed` errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO, cast

TEMP_SUFFIX = ".tmp"


class WriteFailed(Exception):
    """Writing `path` failed with an OS error (ENOSPC, EFBIG, EIO...), or S3 refused a write
    (`error` is then what S3 answered, as words): the run fails."""

    def __init__(self, path: str, error: OSError | str) -> None:
        if isinstance(error, str):
            super().__init__(f"cannot write {path}: {error}")
        else:
            reason = error.strerror or str(error)
            code = errno.errorcode.get(error.errno or 0)
            super().__init__(f"cannot write {path}: {reason}" + (f" ({code})" if code else ""))
        self.path, self.error = path, error


class _NamedStream:
    """A text stream whose OS errors become WriteFailed naming the file. A reader that went away
    (EPIPE) is not a failure of the file: BrokenPipeError passes through unchanged.

    With `defer_flush`, `flush` leaves the buffer alone: a temporary file no one reads before it
    is renamed is flushed once, when committed, not after every record (the JSON lines sink
    flushes each line for readers of a pipe, a system call per record)."""

    def __init__(self, stream: TextIO, name: str, defer_flush: bool = False) -> None:
        self._stream, self.name = stream, name
        self._defer_flush = defer_flush

    def write(self, text: str) -> int:
        with writing(self.name):
            return self._stream.write(text)

    def flush(self) -> None:
        if self._defer_flush:
            return
        with writing(self.name):
            self._stream.flush()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream, attribute)


def named_stream(stream: TextIO, name: str, defer_flush: bool = False) -> TextIO:
    """`stream`, raising WriteFailed(name, error) when a write or flush fails (see `_NamedStream`
    for `defer_flush`)."""
    return cast(TextIO, _NamedStream(stream, name, defer_flush))


@contextlib.contextmanager
def writing(name: str) -> Iterator[None]:
    """Turn an OSError of the block into WriteFailed(name) (BrokenPipeError passes through)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise WriteFailed(name, error) from error


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


_TEMP_BUFFER = 1 << 20  # bytes a temporary file gathers before each write to disk


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str], *, mode: int = 0o600, encoding: str = "utf-8"
) -> Iterator[TextIO]:
    """Yield a text stream whose content replaces `path` only if the block completes.

    The stream uses newline="" so the csv module controls line endings. What is written reaches
    the temporary file in large blocks, and all of it by the commit: a write that fails (a full
    disk) fails there at the latest. `mode` is applied
    explicitly (not through the umask), also when an existing file had wider permissions.

    A symlink's target is replaced, not the link. A device or FIFO (`-o /dev/null`, a named
    pipe) is written in place: renaming over it would replace the device with a regular file.
    """
    name = str(path)
    target = Path(os.path.realpath(path))
    if _is_special_file(target):
        with writing(name), target.open("w", encoding=encoding, newline="") as stream:
            yield named_stream(stream, name)
        return
    directory = target.parent
    remove_stale_temporaries(target)
    prefix = f".{target.name}.{os.getpid()}."
    with writing(name):
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=TEMP_SUFFIX)
    temp = Path(temp_name)
    stream = os.fdopen(fd, "w", buffering=_TEMP_BUFFER, encoding=encoding, newline="")
    try:
        yield named_stream(stream, name, defer_flush=True)
        with writing(name):
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
            temp.chmod(mode)
            temp.replace(target)
    except BaseException:
        # Closing flushes what is buffered, which fails again on a full disk: the first error
        # is the one to report.
        with contextlib.suppress(OSError):
            stream.close()
        temp.unlink(missing_ok=True)
        raise
    with writing(name):
        fsync_directory(directory)


def temporary_name_pattern(name: str) -> re.Pattern[str]:
    """The names of smi's temporary files for a target named `name`: `.NAME.PID.RANDOM.tmp`
    (`tempfile.mkstemp`'s random part), the pid of the writer as group 1."""
    return re.compile(rf"\.{re.escape(name)}\.(\d+)\.[A-Za-z0-9_]+{re.escape(TEMP_SUFFIX)}")


def remove_stale_temporaries(target: Path) -> None:
    """Remove `.NAME.PID.*.tmp` files beside `target` left by a writer that no longer runs
    (killed, or its machine crashed); those of a live process (another run) are left alone."""
    pattern = temporary_name_pattern(target.name)
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match and not _process_alive(int(match[1])):
            with contextlib.suppress(OSError):
                entry.unlink()


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: alive, another user's
    return True


def _is_special_file(path: Path) -> bool:
    try:
        kind = path.stat().st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(kind) and not stat.S_ISDIR(kind)


def fsync_directory(directory: Path) -> None:
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
