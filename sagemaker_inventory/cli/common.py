"""Pieces every smi subcommand shares: date parameters, verbosity flags, the stderr console."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:
    _DateParam = click.ParamType[datetime]
else:  # ParamType is generic only in newer click releases
    _DateParam = click.ParamType


class IsoOrAge(_DateParam):
    """An ISO-8601 time (naive = UTC) or an age such as 7d, 12h, 30m, 2w; always UTC."""

    name = "WHEN"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        from sagemaker_inventory.dates import BadDateError, parse_when

        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value))
        except BadDateError:
            self.fail(
                f"{value!r} is neither an ISO-8601 time nor an age like 7d or 12h", param, ctx
            )


ISO_OR_AGE = IsoOrAge()


def verbosity_options(command: F) -> F:
    """Adds -q/--quiet and -v/--verbose (repeatable); see `verbosity`."""
    command = click.option(
        "-v", "--verbose", count=True, help="More detail on stderr (-v scopes, -vv API calls)."
    )(command)
    return click.option("-q", "--quiet", is_flag=True, help="Print only errors on stderr.")(command)


def verbosity(quiet: bool, verbose: int) -> int:
    """-1 quiet, 0 normal, 1 and up more detail; also sets up logging to match."""
    level = -1 if quiet else verbose
    configure_logging(level)
    return level


def configure_logging(verbosity: int) -> None:
    """Logs go to stderr; botocore stays quiet unless -vv, since it would print request details."""
    level = (
        logging.ERROR
        if verbosity < 0
        else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="smi: %(levelname)s: %(message)s")
    logging.getLogger("sagemaker_inventory").setLevel(level)
    quiet_libs = logging.DEBUG if verbosity >= 2 else logging.WARNING
    for name in ("botocore", "boto3", "urllib3", "moto", "werkzeug"):
        logging.getLogger(name).setLevel(max(quiet_libs, level))


def make_stderr_console(verbosity: int) -> Console:
    """The console for progress and summaries: stderr, so stdout carries only records."""
    return Console(stderr=True, quiet=verbosity < 0, highlight=False)
