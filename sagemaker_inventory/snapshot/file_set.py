"""Several files replaced together, all or none, even if the process is killed half-way.

`--snapshot` replaces three files per run: FILE, its sidecar FILE.meta.json and the --changes
file. Renamed one by one, a crash between two renames would pair a new snapshot with the old
sidecar and changes: that run's changes lost, and records made with other settings reused as if
made with this run's. `FileSet` writes every new file to a temporary beside its target (fsynced),
then writes a commit record (the journal, `snapshot.journal`: which temporary becomes which file)
atomically, and only then renames. The journal is the commit point: `recover`, run under the
snapshot's lock before anything else, finishes the renames a killed run left (roll forward) and
removes the journal, once it has checked that the journal names only smi's temporaries becoming
the files of the set (anything else is refused, nothing touched); a run killed before its journal
was written left the old files untouched, and its temporaries are removed as stale (roll back).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TextIO

from sagemaker_inventory.output.files import (
    TEMP_SUFFIX,
    fsync_directory,
    named_stream,
    remove_stale_temporaries,
    writing,
)
from sagemaker_inventory.snapshot.journal import Rename, read_journal, write_journal

logger = logging.getLogger(__name__)


class FileSet:
    """New contents for several files, moved into place by `commit` as one step."""

    def __init__(
        self, journal: Path, *, mode: int = 0o600, step: Callable[[str], None] | None = None
    ) -> None:
        self._journal = journal
        self._mode = mode
        self._step = step or (lambda name: None)  # tests inject a crash between steps
        self._files: list[tuple[Path, Path, TextIO, str]] = []  # temp, target, stream, name
        self._in_place: list[tuple[TextIO, str]] = []  # devices and FIFOs, written directly

    def __enter__(self) -> FileSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def open(self, path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> TextIO:
        """A stream for the new content of `path`. With `follow_symlinks` False (smi's own files,
        whose directory is resolved already), a symlink found at `path` is replaced, not followed:
        one planted there during the run cannot send the write elsewhere."""
        name = str(path)
        target = Path(os.path.realpath(path)) if follow_symlinks else Path(path).absolute()
        if _is_special(target) and not target.is_symlink():
            with writing(name):
                stream = target.open("w", encoding="utf-8", newline="")
            self._in_place.append((stream, name))
            return named_stream(stream, name)
        remove_stale_temporaries(target)
        with writing(name):
            fd, temp = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX
            )
        stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._files.append((Path(temp), target, stream, name))
        return named_stream(stream, name)

    def commit(self) -> None:
        """Make the new contents durable, write the journal (the commit point), rename."""
        for temp, _, stream, name in self._files:
            with writing(name):
                stream.flush()
                os.fsync(stream.fileno())
                stream.close()
                temp.chmod(self._mode)
        for stream, name in self._in_place:
            with writing(name):
                stream.close()
        self._step("written")
        renames = [(temp, target) for temp, target, _, _ in self._files]
        write_journal(self._journal, renames, self._mode)
        self._step("journal")
        _apply(renames, self._step)
        self._files = []
        with contextlib.suppress(FileNotFoundError):
            self._journal.unlink()
        self._step("done")

    def discard(self) -> None:
        """Drop every new content (a failed or stopped run): no file changes."""
        for temp, _, stream, _ in self._files:
            with contextlib.suppress(OSError):
                stream.close()
            temp.unlink(missing_ok=True)
        self._files = []
        for stream, _ in self._in_place:
            with contextlib.suppress(OSError):
                stream.close()
        self._in_place = []


def recover(journal: Path, targets: Collection[Path]) -> bool:
    """Finish the commit a killed run left (its journal exists): rename what is left, remove
    the journal. True if there was one. `targets`: the files of the set, resolved; a journal
    naming anything but smi's temporaries becoming them raises JournalRefused, nothing touched."""
    renames = read_journal(journal, targets)
    if renames is None:
        return False
    logger.warning("%s: finishing the commit of an interrupted run", journal)
    _apply(renames, lambda name: None)
    with writing(str(journal)):
        journal.unlink(missing_ok=True)
    return True


def _apply(renames: list[Rename], step: Callable[[str], None]) -> None:
    directories: set[Path] = set()
    for temp, target in renames:
        # FileNotFoundError: renamed before the crash.
        with writing(str(target)), contextlib.suppress(FileNotFoundError):
            temp.replace(target)
        directories.add(target.parent)
        step(f"renamed {target.name}")
    for directory in sorted(directories):
        with writing(str(directory)):
            fsync_directory(directory)


def _is_special(path: Path) -> bool:
    try:
        kind = path.stat().st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(kind) and not stat.S_ISDIR(kind)
