"""The `smi` command group: a thin click layer that imports each subcommand only when it runs.

Subcommands live in their own modules and are imported lazily, so `smi --help` stays fast and never
imports boto3.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import click

from sagemaker_inventory import __version__
from sagemaker_inventory.cli.color import color_option
from sagemaker_inventory.exit_codes import ExitCode

# name -> ("module:attribute", short help); the module is imported only when the command runs.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "collect": (
        "sagemaker_inventory.cli.collect:collect",
        "Inventory training jobs in accounts x regions.",
    ),
    "report": (
        "sagemaker_inventory.cli.report:report",
        "Answer common questions from a JSONL inventory.",
    ),
    "schema": ("sagemaker_inventory.cli.schema:schema", "Print the record shape as a JSON Schema."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target[0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's main, but an error is one `smi: error:` line (cli.messages), not four."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        from sagemaker_inventory.cli.messages import show_error

        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            show_error(exc)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("smi: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; how its output ended decides the exit code (see `_finish_output`)."""
        with _scrubbed_stderr(), _finish_output():
            return super().invoke(ctx)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from SUBCOMMANDS so that listing commands imports none of them.
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="smi")
@color_option
def cli() -> None:
    """smi: an exact inventory of SageMaker training jobs, in the aws_sagemaker_trainingjob shape.

    \b
    Examples:
      smi collect --demo                       # try it without an AWS account
      smi collect --region us-east-1 | jq -r '.training_job_name'
      smi collect -r us-east-1,eu-west-1 --status Failed --format table
      smi collect --all-regions -o inventory.jsonl
      smi report inventory.jsonl --by instance_type
      smi schema > trainingjob.schema.json

    \b
    Exit codes:
      0         every account x region was collected (report: the report was made)
      1         nothing could be collected (e.g. no credentials)
      2         usage or input error: a short message names the bad value
      3         partial: some account x region scopes failed; the others' records are all written
      4         another run holds the --snapshot FILE's lock; nothing was done
      5         a file or stdout could not be written (full disk, size limit);
                -o, --snapshot and the other files keep their previous content
      6         smi report --checks --fail-on-findings: at least one check failed
      7         smi schema --drift --strict: the API has members the documented
                shape lacks, or the reverse
      130, 143  stopped by SIGINT / SIGTERM; no file was changed
    """


class WriteFailure(click.ClickException):
    """A file or stdout could not be written (full disk, file-size limit, I/O error)."""

    exit_code = int(ExitCode.WRITE_FAILED)

    def show(self, file: Any = None) -> None:
        click.echo(f"smi: error: {self.message}", err=True)


@contextlib.contextmanager
def _finish_output() -> Iterator[None]:
    """The one place where a command's output ends: stdout is flushed while the exit code can
    still change, a write that failed (WriteFailed, from any file or stdout) is exit 5 with one
    line naming the file and the error, and a reader that went away (EPIPE: `smi ... | head`)
    ends the command quietly with exit 0, whichever command it was."""
    from sagemaker_inventory.output.files import WriteFailed, named_stream

    try:
        try:
            yield
        finally:
            named_stream(sys.stdout, "standard output").flush()
    except BrokenPipeError:
        _silence_stdout()
        raise click.exceptions.Exit(0) from None
    except WriteFailed as exc:
        raise WriteFailure(str(exc)) from None


@contextlib.contextmanager
def _scrubbed_stderr() -> Iterator[None]:
    """Everything a command writes on stderr (messages, progress, logs, a traceback) passes
    through `scrubbing.scrub`: no credential of the sessions in use can reach it."""
    from sagemaker_inventory.scrubbing import ScrubbedStream

    original = sys.stderr
    sys.stderr = ScrubbedStream(original)
    try:
        yield
    finally:
        sys.stderr = original


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail too.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(**kwargs: Any) -> None:
    """Console-script entry point.

    Leaves through os._exit once output is flushed: tearing down botocore's loaded service models
    costs a finished command CPU for nothing.
    """
    stop_early_on_signals()
    try:
        cli.main(prog_name="smi", **kwargs)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            sys.stderr.write(f"{exc.code}\n")
    except Interrupted as exc:
        code = exc.exit_code
        sys.stderr.write(f"{exc.line}\n")
    _flush_and_exit(code)


class Interrupted(BaseException):
    """SIGINT or SIGTERM outside a run's own handlers (while smi starts, or a second Ctrl-C).

    A BaseException but not a KeyboardInterrupt, so that click neither turns it into "Aborted!"
    with exit 1 nor into a traceback: main() ends with one line and 128 + the signal number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum
        self.line = f"smi: stopped by {signal.Signals(signum).name}; no file was changed"


def stop_early_on_signals() -> None:
    """From the first moment, SIGINT and SIGTERM stop smi at once: before a run installs its own
    handlers (signals.stop_signals, which restore these after) nothing has been written yet, and
    every file smi writes is replaced atomically, so an unwound stack changes no file."""

    def stop(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def _flush_and_exit(code: int) -> NoReturn:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # The exit code is decided (stdout was flushed by _finish_output): a reader that went
        # away (`| head`) has nothing more to hear.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
