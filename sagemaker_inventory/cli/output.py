"""Where `smi collect` writes records: stdout or an atomically replaced file.

The run summary on stderr and the --report file are `run_report`'s.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console

from sagemaker_inventory.files import atomic_writer
from sagemaker_inventory.sinks import Sink, make_sink

if TYPE_CHECKING:
    from sagemaker_inventory.cli.collect import Destination


class _Abandoned(Exception):
    """Raised inside the atomic writer so that the target file is left as it was."""


class RecordsOutput:
    """The run's single record writer; `abandon()` keeps an existing output file untouched."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.abandoned = False

    def write(self, record: dict[str, Any]) -> None:
        self._sink.write(record)

    def abandon(self) -> None:
        self.abandoned = True


@contextlib.contextmanager
def open_records_sink(
    destination: Destination, console: Console, title: str | None
) -> Iterator[RecordsOutput]:
    """A RecordsOutput on stdout or on `destination.path` (replaced only if the run succeeds)."""
    if destination.path is None:
        with _stdout_guard():
            output = RecordsOutput(_sink_on(sys.stdout, destination, title, file_output=False))
            yield output
            if not output.abandoned:
                output._sink.close()
        return
    with contextlib.suppress(_Abandoned), atomic_writer(destination.path) as stream:
        output = RecordsOutput(_sink_on(stream, destination, title, file_output=True))
        yield output
        if output.abandoned:
            raise _Abandoned
        output._sink.close()


def _sink_on(
    stream: TextIO, destination: Destination, title: str | None, *, file_output: bool
) -> Sink:
    # On a terminal the table follows its width; piped or in a file make_sink renders it plain and
    # at full width, so no cell is cut.
    console = Console(file=stream) if not file_output and stream.isatty() else None
    return make_sink(
        destination.fmt,
        stream,
        columns=destination.columns,
        console=console,
        title=title,
        all_fields=destination.all_fields,
    )


@contextlib.contextmanager
def _stdout_guard() -> Iterator[None]:
    """Turn a closed pipe (`smi collect | head -3`) into a quiet stop instead of a traceback."""
    try:
        yield
    except BrokenPipeError:
        _silence_stdout()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
