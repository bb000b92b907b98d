"""The rich Console that records are rendered on (stdout or a file), in a module of its own so
that only a run that renders a table or a report loads rich."""

from __future__ import annotations

from rich.console import Console


class OutputConsole(Console):
    """A Console for records on stdout or in a file. rich answers a reader gone away (EPIPE) with
    SystemExit(1) of its own; here it is a BrokenPipeError like any other write's, so that the CLI
    decides in one place how every command ends then."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(32, "Broken pipe")
