"""Columns for the table and csv outputs, and the paths --columns projects JSON records to: dotted
paths into a record, plus a few derived columns.

A column is named by a dotted path through the record's structures
("resource_config.instance_type"), a top-level field name, or one of the derived names (region,
instance, instance_count). Each column knows its header and how to turn a record into a csv cell
(exact, machine-readable) and a table cell (for people: durations as "1h 02m 03s"). Valid paths
come from the documented shape (`shape.field_paths()`), so a typo in `--columns` is caught before
any AWS call.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagemaker_inventory.output.durations import format_exact_duration
from sagemaker_inventory.records.arns import region_of
from sagemaker_inventory.records.instances import instance_count, instance_groups
from sagemaker_inventory.records.record import Record, record_json

MISSING_TEXT = "-"


class UnknownColumnError(ValueError):
    """A requested column is neither a documented field path nor a derived column."""


def get_path(record: Record, path: str) -> Any:
    """The value at a dotted path through nested structures, or None when any step is absent."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def format_cell(value: object) -> str:
    """The csv text of a value: "" for absent, true/false, compact JSON for lists and maps."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return record_json(value)
    return str(value)


def format_table_cell(value: object) -> str:
    """Like format_cell, but an absent value shows as a dash so empty cells stay visible."""
    return MISSING_TEXT if value is None else format_cell(value)


def format_duration_cell(value: object) -> str:
    """Seconds as durations.format_exact_duration ("1h 02m 03s"); anything else as a plain table
    cell."""
    if not isinstance(value, int) or isinstance(value, bool):
        return format_table_cell(value)
    return format_exact_duration(value)


def describe_instances(record: Record) -> str | None:
    """Instance type x count ("ml.p3.2xlarge x 2"); a heterogeneous cluster lists every group."""
    groups = instance_groups(record)
    if groups is None:
        return None
    return ", ".join(_instance_text(kind, count) for kind, count in groups)


def _instance_text(instance_type: object, count: object) -> str:
    kind = instance_type if isinstance(instance_type, str) else "?"
    return f"{kind} x {count if isinstance(count, int) else '?'}"


@dataclass(frozen=True)
class Column:
    """One output column: the name `--columns` accepts, its header, and how to read a record."""

    key: str
    header: str
    extract: Callable[[Record], object]
    humanize: Callable[[object], str] = format_table_cell

    def csv_cell(self, record: Record) -> str:
        return format_cell(self.extract(record))

    def table_cell(self, record: Record) -> str:
        return self.humanize(self.extract(record))


def _path_column(path: str, header: str | None = None) -> Column:
    # Every *_in_seconds field is a duration; people read "1h 02m 03s" faster than 3723.
    humanize = format_duration_cell if path.endswith("_in_seconds") else format_table_cell
    return Column(path, header or path, lambda record: get_path(record, path), humanize)


DERIVED_COLUMNS: dict[str, Column] = {
    "region": Column("region", "region", region_of),
    "instance": Column("instance", "instance", describe_instances),
    "instance_count": Column("instance_count", "instances", instance_count),
}

DEFAULT_TABLE_COLUMNS: tuple[Column, ...] = (
    _path_column("training_job_name", "name"),
    _path_column("training_job_status", "status"),
    _path_column("secondary_status", "secondary status"),
    DERIVED_COLUMNS["instance"],
    _path_column("enable_managed_spot_training", "spot"),
    _path_column("creation_time", "created"),
    _path_column("training_time_in_seconds", "training time"),
    _path_column("billable_time_in_seconds", "billable time"),
    DERIVED_COLUMNS["region"],
    _path_column("account_id", "account"),
)

# When the terminal is too narrow for every table column, columns are dropped from the end of
# this list first (columns not in it before any in it, the last requested first). The job name
# is never dropped.
TABLE_PRIORITY = (
    "training_job_name",
    "training_job_status",
    "creation_time",
    "instance",
    "billable_time_in_seconds",
    "account_id",
    "region",
    "training_time_in_seconds",
    "enable_managed_spot_training",
    "secondary_status",
)
# Free text is cut (with an ellipsis) down to this width before its column is dropped; the
# columns below hold identifiers, times, durations or flags, which are dropped rather than cut.
TABLE_SHRINK_WIDTH = 12
INSTANCE_SHRINK_WIDTH = 16
_NEVER_CUT = frozenset(
    {
        "training_job_name",
        "training_job_arn",
        "training_job_status",
        "secondary_status",
        "account_id",
        "region",
        "instance_count",
        "enable_managed_spot_training",
        "enable_network_isolation",
        "enable_inter_container_traffic_encryption",
    }
)


def table_priority(key: str, position: int) -> int:
    """The column's drop order in a too-narrow table: 0 (the job name) is never dropped, higher
    numbers are dropped first; `position` is where the column was requested."""
    if key in TABLE_PRIORITY:
        return TABLE_PRIORITY.index(key)
    return len(TABLE_PRIORITY) + position


def table_shrink(key: str) -> int | None:
    """The narrowest the column may be cut to with an ellipsis; None when it is never cut."""
    if key == "instance":
        return INSTANCE_SHRINK_WIDTH
    if key in _NEVER_CUT or key.endswith(("_time", "_in_seconds")):
        return None
    return TABLE_SHRINK_WIDTH


_NAMED_COLUMNS: dict[str, Column] = {
    **{column.key: column for column in DEFAULT_TABLE_COLUMNS},
    **DERIVED_COLUMNS,
}


def column(key: str) -> Column:
    """The column for a key: a default table column or derived name keeps its label, else a path."""
    return _NAMED_COLUMNS.get(key) or _path_column(key)


def columns_for(keys: Sequence[str]) -> tuple[Column, ...]:
    return tuple(column(key) for key in keys)


def leaf_paths(paths: Sequence[str]) -> list[str]:
    """The paths no other path extends, in their given order: structures become their members."""
    parents = {prefix for path in paths for prefix in _prefixes(path)}
    seen: set[str] = set()
    leaves = []
    for path in paths:
        if path not in parents and path not in seen:
            seen.add(path)
            leaves.append(path)
    return leaves


def project(record: Record, keys: Sequence[str]) -> dict[str, Any]:
    """The record cut down to `keys` for JSON: each dotted path keeps its nesting
    (`resource_config.instance_type` -> {"resource_config": {"instance_type": ...}}), a derived
    column is a top-level key with its value, and a path the record lacks is null, so that every
    record has the same keys. A structure named whole includes its members named too."""
    named = set(keys)
    projected: dict[str, Any] = {}
    for key in keys:
        if key in DERIVED_COLUMNS:
            projected[key] = DERIVED_COLUMNS[key].extract(record)
            continue
        if any(prefix in named for prefix in _prefixes(key)):
            continue  # inside a structure named whole
        *parents, leaf = key.split(".")
        target = projected
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = get_path(record, key)
    return projected


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def default_csv_columns(*, all_fields: bool = False) -> list[str]:
    """Every documented field in documentation order, structures flattened to their members.

    With `all_fields`, the undocumented members the record then carries follow the documented ones.
    """
    return leaf_paths(_field_paths(all_fields))


def valid_columns(*, all_fields: bool = False) -> set[str]:
    """Field paths, every structure along them (top-level names included), derived names."""
    paths = _field_paths(all_fields)
    valid = set(paths) | set(DERIVED_COLUMNS)
    for path in paths:
        valid.update(_prefixes(path))
    return valid


def validate_columns(names: Sequence[str], *, all_fields: bool = False) -> list[str]:
    """The requested column keys, whitespace-trimmed; UnknownColumnError names the first bad one."""
    valid = valid_columns(all_fields=all_fields)
    keys = [name.strip() for name in names]
    for key in keys:
        if key in valid:
            continue
        if not all_fields and key in valid_columns(all_fields=True):
            raise UnknownColumnError(
                f"column {key!r} exists only with --all-fields (an API member the documented"
                " shape leaves out): add --all-fields"
            )
        raise UnknownColumnError(_unknown_message(key, valid))
    return keys


def _unknown_message(key: str, valid: set[str]) -> str:
    message = f"unknown column {key!r}"
    close = difflib.get_close_matches(key, sorted(valid), n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _field_paths(all_fields: bool = False) -> list[str]:
    # Imported late: shape pulls in botocore, slow to import, which the json sinks never need.
    from sagemaker_inventory.records.shape import field_paths

    return field_paths(all_fields=all_fields)
