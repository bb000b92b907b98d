"""How an error ends a command on stderr: one line, `smi: error: ...`, as every message smi writes
there starts with `smi: ` (`smi: warning: ...` for warnings), so that `grep smi:` on a cron log
finds each whole. click would print a usage error over four lines (Usage, Try, a blank, Error)."""

from __future__ import annotations

import click

PREFIX = "smi: "


def error_line(exc: click.ClickException) -> str:
    """The one line for a click error: the message on one line, then where help is for a usage
    error (`see 'smi collect --help'`)."""
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        see = f"see '{exc.ctx.command_path} --help'"
        message = (
            f"{message} S{see[1:]}" if message.endswith("?") else f"{message.rstrip('.')}; {see}"
        )
    return f"{PREFIX}error: {message}"


def show_error(exc: click.ClickException) -> None:
    """Write `error_line(exc)` to stderr."""
    click.echo(error_line(exc), err=True)
