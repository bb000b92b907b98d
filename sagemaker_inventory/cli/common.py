"""Pieces every smi subcommand shares: date parameters, the options every subcommand takes alike
(-f/--format, -o/--output, -q/--quiet), verbosity flags, the stderr console."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

import click

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:
    ParamType = click.ParamType
else:

    class ParamType(click.ParamType):
        """click.ParamType, subscriptable as in newer click releases (ParamType[int]) also on
        older ones, so that each parameter type can name the type it converts to."""

        def __class_getitem__(cls, item: Any) -> type:
            return cls


class IsoOrAge(ParamType[datetime]):
    """An ISO-8601 time (naive = UTC) or an age such as 7d, 12h, 30m, 2w; always UTC."""

    name = "WHEN"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        from sagemaker_inventory.records.timestamps import BadDateError, parse_when

        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value))
        except BadDateError:
            self.fail(
                f"{value!r} is neither an ISO-8601 time nor an age like 7d or 12h", param, ctx
            )


ISO_OR_AGE = IsoOrAge()


class FileMode(ParamType[int]):
    """An octal permission mode such as 0600 or 640."""

    name = "OCTAL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            mode = int(str(value), 8)
        except ValueError:
            self.fail(f"{value!r} is not an octal mode like 0600 or 640", param, ctx)
        if not 0 <= mode <= 0o777:
            self.fail(f"{value!r} is not a permission mode (0000 to 0777)", param, ctx)
        return mode


class EndpointUrl(ParamType[str]):
    """An http(s) URL botocore accepts as an endpoint: `127.0.0.1:5055` (no scheme) is refused
    here, naming it, rather than by botocore as a traceback."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from sagemaker_inventory.aws.endpoints import endpoint_url_problem

        problem = endpoint_url_problem(str(value))
        if problem:
            self.fail(problem, param, ctx)
        return str(value)


ENDPOINT_URL = EndpointUrl()


class Seconds(ParamType[float]):
    """A positive, finite number of seconds (a timeout)."""

    name = "SECONDS"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        import math

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (seconds > 0 and math.isfinite(seconds)):
            self.fail(f"{value!r} is not a positive, finite number of seconds", param, ctx)
        return seconds


SECONDS = Seconds()


def check_environment_endpoint_url() -> None:
    """AWS_ENDPOINT_URL (botocore honours it, below any AWS_ENDPOINT_URL_<SERVICE>), checked like
    --endpoint-url: a usage error naming the variable, not a failure in every scope."""
    from sagemaker_inventory.aws.endpoints import endpoint_url_problem

    url = os.environ.get("AWS_ENDPOINT_URL")
    problem = endpoint_url_problem(url) if url else None
    if problem:
        raise click.UsageError(f"AWS_ENDPOINT_URL: {problem}")


class Processes(ParamType[int | None]):
    """A number of processes (at least 1), or "auto" (None: smi chooses)."""

    name = "N"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip()
        if text.lower() == "auto":
            return None
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is not a number of processes (1, 2, ... or auto)", param, ctx)
        if number < 1:
            self.fail(f"{value!r}: at least 1 process (or auto)", param, ctx)
        return number


def format_option(choices: Sequence[str], help_text: str) -> Callable[[F], F]:
    """-f/--format, the same option on every subcommand (each names its own choices); its value
    reaches the command as `fmt`."""
    return click.option("-f", "--format", "fmt", type=click.Choice(list(choices)), help=help_text)


def output_option(help_text: str, kind: ParamType[Any] | None = None) -> Callable[[F], F]:
    """-o/--output FILE, the same option on every subcommand: FILE is replaced atomically, '-' is
    stdout. Its value reaches the command as `output`; `kind`: another type than a local FILE
    (collect's also takes s3://)."""
    return click.option(
        "-o",
        "--output",
        type=kind or click.Path(dir_okay=False, allow_dash=True, path_type=Path),
        metavar="FILE",
        help=help_text,
    )


def checked_output(output: Path | None) -> Path | None:
    """The FILE of -o (None for stdout, also for '-'), checked writable before any work: an
    unusable path is a usage error (exit 2) naming it."""
    from sagemaker_inventory.output.files import DestinationError, check_destination

    if output is None or str(output) == "-":
        return None
    try:
        check_destination(output)
    except DestinationError as exc:
        raise click.BadParameter(str(exc), param_hint="'-o' / '--output'") from None
    return output


@contextlib.contextmanager
def output_stream(path: Path | None, mode: int = 0o600) -> Iterator[TextIO]:
    """stdout, or FILE written atomically (replaced only once everything was written); a write
    that fails raises WriteFailed naming it (exit 5, see the CLI group)."""
    from sagemaker_inventory.output.files import atomic_writer, named_stream

    if path is None:
        yield named_stream(sys.stdout, "standard output")
        return
    with atomic_writer(path, mode=mode) as stream:
        yield stream


def quiet_option(command: F) -> F:
    """Adds -q/--quiet: only errors on stderr (every subcommand takes it)."""
    return click.option("-q", "--quiet", is_flag=True, help="Print only errors on stderr.")(command)


def verbosity_options(command: F) -> F:
    """Adds -q/--quiet and -v/--verbose (repeatable); see `verbosity`."""
    command = click.option(
        "-v", "--verbose", count=True, help="More detail on stderr (-v scopes, -vv API calls)."
    )(command)
    return quiet_option(command)


def verbosity(quiet: bool, verbose: int) -> int:
    """-1 quiet, 0 normal, 1 and up more detail; also sets up logging to match."""
    level = -1 if quiet else verbose
    configure_logging(level)
    return level


def configure_logging(verbosity: int) -> None:
    """smi's own logs on stderr: -v scope-level, -vv API-level (one line per request sent).

    botocore's and urllib3's loggers stay at WARNING at every verbosity: their debug output carries
    signed headers and session tokens, which must never reach a log.
    """
    level = (
        logging.ERROR
        if verbosity < 0
        else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("smi: %(message)s"))
    handler.addFilter(SecretFilter())
    package = logging.getLogger("sagemaker_inventory")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False
    for name in ("botocore", "boto3", "urllib3", "moto", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)


class SecretFilter(logging.Filter):
    """Scrubs each log line (`scrubbing.scrub`: the sessions' keys, anything credential-shaped),
    also when the handler's stream is not the CLI's scrubbed stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        from sagemaker_inventory.scrubbing import scrub

        message = record.getMessage()
        masked = scrub(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def make_stderr_console(verbosity: int) -> Console:
    """The console for progress and summaries: stderr, so stdout carries only records. Under -q
    it is made on first use: a quiet run that has nothing to say never imports rich. Off a
    terminal (a cron log, a pipe) text is never wrapped: one message is one line, for grep."""
    if verbosity < 0:
        # Stands in for the Console it makes (see _QuietConsole): typed as one for its users.
        return cast("Console", _QuietConsole())
    from rich.console import Console

    return Console(stderr=True, quiet=False, highlight=False, soft_wrap=not sys.stderr.isatty())


class _QuietConsole:
    """A quiet stderr Console (-q), made only when something asks for more than `quiet`."""

    quiet = True

    def __init__(self) -> None:
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        # Only for attributes this object lacks: everything but `quiet` is the Console's.
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                stderr=True, quiet=True, highlight=False, soft_wrap=not sys.stderr.isatty()
            )
        return getattr(self._console, name)
