"""Where `smi collect` puts things: output format and file, the --report run summary, snapshot,
changes, file mode and redaction, all checked before any AWS call so that bad paths are usage
errors (exit 2). Each file may be a local path or an S3 object (`s3://BUCKET/KEY`, docs/s3.md);
only a snapshot and its --changes must live in one store (one bucket), since they commit as one."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import click

from sagemaker_inventory.collect.plan import Destination, Location
from sagemaker_inventory.output.columns import UnknownColumnError, validate_columns
from sagemaker_inventory.output.files import DestinationError, check_destination
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.output.sinks import OutputFormat

if TYPE_CHECKING:
    from sagemaker_inventory.aws.fetch import ListFilters
    from sagemaker_inventory.records.redaction import RedactionRules

SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}


def is_stdout(output: Location | None) -> bool:
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
    snapshot: Location | None, output: Location | None, fmt: str | None, columns: str | None
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
    snapshot: Location | None,
    changes: Location | None,
    output: Location | None,
    filters: ListFilters,
) -> Location | None:
    if changes is not None and snapshot is None:
        raise click.UsageError("--changes needs --snapshot: changes are relative to a snapshot")
    _check_same_store(snapshot, changes)
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
    named: list[tuple[str, Location | None]] = [
        ("'-o' / '--output'", destination.path),
        ("'--report'", destination.report),
    ]
    snapshot = destination.snapshot
    if snapshot is not None:
        from sagemaker_inventory.snapshot.index import META_SUFFIX
        from sagemaker_inventory.snapshot.journal import JOURNAL_SUFFIX
        from sagemaker_inventory.snapshot.lock import LOCK_SUFFIX

        named.append(("'--snapshot'", snapshot))
        for what, suffix in (
            ("sidecar", META_SUFFIX),
            ("lock", LOCK_SUFFIX),
            ("journal", JOURNAL_SUFFIX),
        ):
            beside = _beside(snapshot, suffix)
            named.append((f"the snapshot's {what} {beside}", beside))
        named.append(("'--changes'", destination.changes))
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


def _beside(location: Location, suffix: str) -> Location:
    """FILE + suffix: the sidecar, lock or journal of a snapshot, local or in S3."""
    if isinstance(location, S3Url):
        return location.with_suffix(suffix)
    return location.with_name(location.name + suffix)


def _check_same_store(snapshot: Location | None, changes: Location | None) -> None:
    """A snapshot and its --changes commit as one set: both local, or both in one bucket."""
    if snapshot is None or changes is None:
        return
    if isinstance(snapshot, S3Url) != isinstance(changes, S3Url):
        raise click.BadParameter(
            f"{changes}: the snapshot {snapshot} and its changes are committed together, so"
            " both must be local files or both S3 objects",
            param_hint="'--changes'",
        )
    if (
        isinstance(snapshot, S3Url)
        and isinstance(changes, S3Url)
        and (snapshot.bucket != changes.bucket)
    ):
        raise click.BadParameter(
            f"{changes}: not in the snapshot's bucket {snapshot.bucket}; the snapshot, its"
            " sidecar and its changes are committed together under one lock, in one bucket",
            param_hint="'--changes'",
        )


def checked_s3_options(destination: Destination, demo: bool) -> None:
    """--sse-kms-key-id needs an S3 destination; --demo takes none (its AWS is simulated: an S3
    object written from it would need real credentials beside fake data, and would be mixed
    with the demo's backend)."""
    s3 = destination.s3_locations
    key = destination.sse_kms_key_id
    if key is not None:
        if not s3:
            raise click.UsageError(
                "--sse-kms-key-id encrypts objects smi writes to S3: give an s3:// -o,"
                " --snapshot, --changes or --report, or drop it"
            )
        if not key.strip() or not key.isprintable() or any(c.isspace() for c in key):
            raise click.BadParameter(
                f"{key!r} is not a KMS key id, ARN or alias", param_hint="'--sse-kms-key-id'"
            )
    if demo and s3:
        raise click.UsageError(
            f"--demo runs on an embedded simulated AWS: it writes no S3 object ({s3[0]}); write"
            " the demo's records to a local file or stdout"
        )


def _file_identity(path: Location) -> object | None:
    """(device, inode) of an existing file, else its resolved path; None for a device or FIFO;
    an S3 object is its bucket and key."""
    if isinstance(path, S3Url):
        return path
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
    output: Location | None,
    columns: str | None,
    all_fields: bool,
    report: Location | None = None,
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


def default_format(output: Location | None) -> str:
    """table on a terminal, else jsonl; for a file, its suffix's format (none: jsonl). An unknown
    suffix is a usage error: `-o out.yaml` must not silently get JSON lines."""
    if output is None:
        return "table" if sys.stdout.isatty() else "jsonl"
    given = PurePosixPath(output.name).suffix
    suffix = given.lower()
    if not suffix:
        return "jsonl"
    if suffix not in SUFFIX_FORMATS:
        raise click.BadParameter(
            f"{given!r} is not a suffix smi writes (known: {', '.join(SUFFIX_FORMATS)});"
            " pass --format to choose one",
            param_hint="'-o' / '--output'",
        )
    return SUFFIX_FORMATS[suffix]


def _check_paths(*paths: tuple[Location | None, str]) -> None:
    """Each given local path must be writable where it is to be created (an S3 object is checked
    when the run starts: that needs AWS)."""
    for path, hint in paths:
        if isinstance(path, Path):
            try:
                check_destination(path)
            except DestinationError as exc:
                raise click.BadParameter(str(exc), param_hint=hint) from None
