"""Where `smi collect` puts things: output format and file, the --report run summary, snapshot,
changes, file mode and redaction, all checked before any AWS call so that bad paths are usage
errors (exit 2)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sagemaker_inventory.collect.plan import Destination
from sagemaker_inventory.output.columns import UnknownColumnError, validate_columns
from sagemaker_inventory.output.files import DestinationError, check_destination
from sagemaker_inventory.output.sinks import OutputFormat

if TYPE_CHECKING:
    from sagemaker_inventory.aws.fetch import ListFilters
    from sagemaker_inventory.records.redaction import RedactionRules

SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}


def is_stdout(output: Path | None) -> bool:
    """`-o -` names stdout, as the default does (and, with --snapshot, asks for records there)."""
    return output is not None and str(output) == "-"


def scopes_listing(list_scopes: bool, fmt: str | None, *given: tuple[object, str]) -> str | None:
    """The format of --list-scopes (text unless -f names a machine format), or None; it writes
    only to stdout, so file options with it are usage errors, not silently ignored."""
    if not list_scopes:
        return None
    for value, option in given:
        if value:
            raise click.UsageError(f"--list-scopes collects nothing: drop {option}")
    return fmt if fmt in ("jsonl", "json", "csv") else "text"


def records_wanted(
    snapshot: Path | None, output: Path | None, fmt: str | None, columns: str | None
) -> bool:
    """Whether records are written beside the snapshot: with --snapshot, the snapshot is the run's
    output and records go elsewhere only when -o asks for it (`-o -` for stdout), so that a cron
    run prints nothing."""
    if snapshot is None or output is not None:
        return True
    if fmt is not None or columns is not None:
        given = "--format" if fmt is not None else "--columns"
        raise click.UsageError(
            f"with --snapshot, records go only to the snapshot: {given} needs -o FILE,"
            " or -o - for stdout"
        )
    return False


def checked_snapshot(
    snapshot: Path | None, changes: Path | None, output: Path | None, filters: ListFilters
) -> Path | None:
    if changes is not None and snapshot is None:
        raise click.UsageError("--changes needs --snapshot: changes are relative to a snapshot")
    if snapshot is not None and filters.given:
        raise click.UsageError(
            "--snapshot keeps the whole inventory of its scopes: it cannot be combined with "
            "--status, --name-contains, --created-after, --created-before or --modified-after"
        )
    _check_paths((snapshot, "'--snapshot'"), (changes, "'--changes'"))
    return snapshot


def check_distinct_files(destination: Destination) -> None:
    """Usage error (exit 2) when two of the files this run writes are one file: symlinks and
    hard links resolved, the snapshot's sidecar, lock and commit journal included. Devices
    (`/dev/null`) may take several outputs."""
    named = [("'-o' / '--output'", destination.path), ("'--report'", destination.report)]
    snapshot = destination.snapshot
    if snapshot is not None:
        from sagemaker_inventory.snapshot.index import meta_path_for
        from sagemaker_inventory.snapshot.journal import journal_path_for
        from sagemaker_inventory.snapshot.lock import lock_path_for

        named += [
            ("'--snapshot'", snapshot),
            (f"the snapshot's sidecar {meta_path_for(snapshot)}", meta_path_for(snapshot)),
            (f"the snapshot's lock {lock_path_for(snapshot)}", lock_path_for(snapshot)),
            (f"the snapshot's journal {journal_path_for(snapshot)}", journal_path_for(snapshot)),
            ("'--changes'", destination.changes),
        ]
    seen: dict[object, str] = {}
    for hint, path in named:
        if path is None:
            continue
        identity = _file_identity(path)
        if identity is None:
            continue
        if identity in seen:
            raise click.UsageError(
                f"{seen[identity]} and {hint} name the same file ({path}): one would overwrite "
                "the other"
            )
        seen[identity] = hint


def _file_identity(path: Path) -> object | None:
    """(device, inode) of an existing file, else its resolved path; None for a device or FIFO."""
    try:
        status = path.stat()
    except OSError:
        return os.path.realpath(path)
    if not stat.S_ISREG(status.st_mode):
        return None
    return (status.st_dev, status.st_ino)


def redaction_rules(patterns: tuple[str, ...], no_redact: bool) -> RedactionRules | None:
    # Imported when the command runs: records.redaction loads botocore (through records.shape).
    from sagemaker_inventory.records.redaction import RedactionRules

    if no_redact:
        if patterns:
            raise click.UsageError("--redact-pattern and --no-redact contradict each other")
        return None
    try:
        return RedactionRules(patterns)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--redact-pattern'") from None


def checked_destination(
    fmt: str | None,
    output: Path | None,
    columns: str | None,
    all_fields: bool,
    report: Path | None = None,
) -> Destination:
    if is_stdout(output):
        output = None
    _check_paths((output, "'-o' / '--output'"), (report, "'--report'"))
    chosen = fmt or default_format(output)
    column_list = None
    if columns is not None:
        try:
            names = [c.strip() for c in columns.split(",") if c.strip()]
            column_list = validate_columns(names, all_fields=all_fields)
        except UnknownColumnError as exc:
            raise click.BadParameter(str(exc), param_hint="'--columns'") from None
    return Destination(OutputFormat(chosen), output, column_list, all_fields, report)


def default_format(output: Path | None) -> str:
    """table on a terminal, else jsonl; for a file, its suffix's format (none: jsonl). An unknown
    suffix is a usage error: `-o out.yaml` must not silently get JSON lines."""
    if output is None:
        return "table" if sys.stdout.isatty() else "jsonl"
    suffix = output.suffix.lower()
    if not suffix:
        return "jsonl"
    if suffix not in SUFFIX_FORMATS:
        raise click.BadParameter(
            f"{output.suffix!r} is not a suffix smi writes (known: {', '.join(SUFFIX_FORMATS)});"
            " pass --format to choose one",
            param_hint="'-o' / '--output'",
        )
    return SUFFIX_FORMATS[suffix]


def _check_paths(*paths: tuple[Path | None, str]) -> None:
    """Each given path must be writable where it is to be created."""
    for path, hint in paths:
        if path is not None:
            try:
                check_destination(path)
            except DestinationError as exc:
                raise click.BadParameter(str(exc), param_hint=hint) from None
