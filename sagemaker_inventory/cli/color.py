"""--no-color, for every subcommand and the group (kept apart from `common` so that `smi --help`
imports neither rich nor boto3)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def color_option(command: F) -> F:
    """Adds --no-color: the same as setting NO_COLOR (https://no-color.org), which every rich
    console smi makes (progress, summary, tables) already honours."""

    def no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            os.environ["NO_COLOR"] = "1"

    return click.option(
        "--no-color",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=no_color,
        help="No colours on stderr or in tables (as NO_COLOR=1 does).",
    )(command)
