"""`smi schema`: the record shape as a JSON Schema, from the single copy of the shape we ship; with
`--drift`, what the installed botocore's DescribeTrainingJob has that the documented shape lacks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sagemaker_inventory.cli.color import color_option
from sagemaker_inventory.cli.common import (
    checked_output,
    format_option,
    output_option,
    output_stream,
    quiet_option,
)
from sagemaker_inventory.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from sagemaker_inventory.records.drift import Drift, Member


@click.command()
@click.option("--all-fields", is_flag=True, help="Schema for records collected with --all-fields.")
@click.option(
    "--drift",
    is_flag=True,
    help="List the API members the documented shape lacks, and documented fields the API "
    "no longer has, instead of printing the schema.",
)
@click.option(
    "--strict",
    is_flag=True,
    help=f"With --drift: exit {ExitCode.DRIFT.value} when there is any drift.",
)
@format_option(
    ("table", "json"),
    "json (the schema; --drift by default off a terminal) or table (--drift only; the default "
    "on a terminal).",
)
@output_option("Write to FILE atomically instead of stdout; '-' is stdout.")
@quiet_option
@color_option
def schema(
    all_fields: bool,
    drift: bool,
    strict: bool,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
) -> None:
    """Print the JSON Schema (draft 2020-12) that every `smi collect` record validates against.

    The schema is for one record: `-f json` writes an array of them, which the
    second example validates with the schema wrapped as the array's items.

    With --drift, compare the installed botocore's DescribeTrainingJob output
    shape with the documented shape instead: each API member the documentation
    lacks (its record path, API path and type; `smi collect --all-fields` keeps
    them) and each documented field the API no longer has. Exit 0 either way,
    or 7 with --strict when there is any drift.

    \b
    --drift --format json prints:
      {"botocore_version", "operation", "undocumented": [{"path", "api_path",
       "type"}], "missing_from_api": [same]}

    \b
    Examples:
      smi schema > trainingjob.schema.json
      smi schema | jq '{type: "array", items: del(.["$schema"])}' > inventory.schema.json
      smi collect --demo -f json > inventory.json
      check-jsonschema --schemafile inventory.schema.json inventory.json
      smi schema --drift
      smi schema --drift --format json | jq -r '.undocumented[].path'
    """
    path = checked_output(output)
    if not drift:
        if strict or fmt == "table":
            raise click.UsageError("--strict and --format table go with --drift")
        from sagemaker_inventory.records.schema import record_schema

        with output_stream(path) as stream:
            click.echo(json.dumps(record_schema(all_fields=all_fields), indent=2), file=stream)
        return
    if all_fields:
        raise click.UsageError("--drift compares the documented shape; drop --all-fields")
    from sagemaker_inventory.records.drift import find_drift

    found = find_drift()
    with output_stream(path) as stream:
        if (fmt or ("table" if path is None and sys.stdout.isatty() else "json")) == "json":
            click.echo(json.dumps(found.as_dict(), indent=2), file=stream)
        else:
            from sagemaker_inventory.output.console import OutputConsole

            render_drift(found, OutputConsole(file=stream))
    if strict and found.drifted:
        raise SystemExit(ExitCode.DRIFT.value)


def render_drift(found: Drift, console: Console) -> None:
    """Two tables: API members the documentation lacks, documented fields the API lacks."""
    from rich.text import Text

    if not found.drifted:
        console.print(Text("No drift: the documented shape and botocore's model agree."))
        return
    if found.undocumented:
        _print_members(
            f"{len(found.undocumented)} DescribeTrainingJob members the documented shape "
            "lacks (smi collect --all-fields keeps them)",
            found.undocumented,
            console,
        )
    if found.missing_from_api:
        _print_members(
            f"{len(found.missing_from_api)} documented fields botocore's model no longer has",
            found.missing_from_api,
            console,
        )


def _print_members(title: str, members: list[Member], console: Console) -> None:
    """One member a row, fitted to the console (`table_fit`): the record path is never cut; the
    API member is dropped first, then the type."""
    from rich.text import Text

    from sagemaker_inventory.output.table_fit import PINNED, FitColumn, cell, print_fitted

    columns = [
        FitColumn("Record path", PINNED),
        FitColumn("API member", 2),
        FitColumn("Type", 1),
    ]
    rows = [[cell(m.path), cell(m.api_path), cell(m.type)] for m in members]
    print_fitted(console, columns, rows, title=Text(title))
