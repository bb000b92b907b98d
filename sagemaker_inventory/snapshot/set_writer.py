"""What the snapshot needs of the store its files live in: a `SetWriter` takes the new contents of
the files of a snapshot's set (FILE, its sidecar, --changes) and makes them visible together
(`commit`) or not at all (`discard`). `file_set.FileSet` is the local disk's; another store (S3,
built in `aws/`) hands `SnapshotWriter` its own through a `SetWriterFactory`, so that the snapshot
code never imports what talks to that store."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol, TextIO

Step = Callable[[str], None]  # called between the steps of a commit (tests inject a crash)


class SetWriter(Protocol):
    """New contents for the files of one set, visible together once `commit` returns."""

    def __enter__(self) -> SetWriter: ...

    def __exit__(self, *exc: object) -> None: ...

    def open(self, path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> TextIO:
        """A stream for the new content of the file `path` names."""
        ...

    def commit(self) -> None:
        """Make every new content visible, as one step even if the process dies half-way."""
        ...

    def discard(self) -> None:
        """Drop every new content: nothing changes."""
        ...


class SetWriterFactory(Protocol):
    """Makes the SetWriter of one commit; `step` is called between its steps."""

    def __call__(self, step: Step | None) -> SetWriter: ...
