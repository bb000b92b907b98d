"""The JSON Schema (draft 2020-12) of one aws_sagemaker_trainingjob record, from the shape data.

It is generated from the same field tree `shape.to_record` follows, so the schema and the records
cannot drift apart. The documented schema is closed (additionalProperties false on every structure;
map values are strings) and carries each field's page description and provider name
(`x-provider-name`). With all_fields it also lists the members the page does not document (marked
`x-documented: false`) and admits any further property.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagemaker_inventory.records.shape import RESOURCE, Field, record_fields

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The exact form timestamps.format_timestamp writes; "date-time" alone would also admit offsets.
UTC_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$"
SCALARS: dict[str, dict[str, Any]] = {
    "STRING": {"type": "string"},
    "INT32": {"type": "integer"},
    "INT64": {"type": "integer"},
    "FLOAT": {"type": "number"},
    "BOOLEAN": {"type": "boolean"},
    "TIMESTAMP": {"type": "string", "format": "date-time", "pattern": UTC_TIMESTAMP},
}
# The page documents these without a provider name or description; say where they come from
# in a $comment, keeping "description" the page's own text.
PROVIDERLESS = {
    "account_id": "Not a DescribeTrainingJob member: the account of training_job_arn.",
    "tags": "Not a DescribeTrainingJob member: the job's tags as sorted 'key:value' strings.",
}
LIST_PREFIX = "UNORDERED_LIST_"
MAP_PREFIX = "MAP_STRING_"


def record_schema(*, all_fields: bool = False) -> dict[str, Any]:
    """A JSON Schema document for one record (documented shape, or with all_fields the model's)."""
    body = _object_schema(record_fields(all_fields=all_fields), all_fields)
    return {
        "$schema": DIALECT,
        "title": RESOURCE,
        "description": (
            "One SageMaker training job as smi writes it: its DescribeTrainingJob response in the "
            f"documented {RESOURCE} shape, with account_id and its tags as sorted 'key:value' "
            "strings."
        ),
        **body,
        "required": ["account_id", "tags"],
    }


def _object_schema(fields: Sequence[Field], open_: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f, open_) for f in fields},
        "additionalProperties": open_,
    }


def _field_schema(f: Field, open_: bool) -> dict[str, Any]:
    annotations: dict[str, Any] = {}
    if f.description is not None:
        annotations["description"] = f.description
    if f.provider_name is not None:
        annotations["x-provider-name"] = f.provider_name
    elif f.name in PROVIDERLESS:
        annotations["$comment"] = PROVIDERLESS[f.name]
    if not f.documented:
        annotations["x-documented"] = False
    return {**annotations, **_type_schema(f.type, f.fields, open_)}


def _type_schema(type_: str, fields: Sequence[Field], open_: bool) -> dict[str, Any]:
    """The schema of a value of a page type (STRUCT, UNORDERED_LIST_X, MAP_STRING_X or a scalar)."""
    if type_ == "STRUCT":
        return _object_schema(fields, open_)
    if type_ == "UNORDERED_LIST_STRUCT":
        return {"type": "array", "items": _object_schema(fields, open_)}
    if type_.startswith(LIST_PREFIX):
        return {"type": "array", "items": _type_schema(type_.removeprefix(LIST_PREFIX), (), open_)}
    if type_.startswith(MAP_PREFIX):
        value = _type_schema(type_.removeprefix(MAP_PREFIX), (), open_)
        return {"type": "object", "additionalProperties": value}
    if type_ in SCALARS:
        return dict(SCALARS[type_])
    raise ValueError(f"no JSON Schema for the page type {type_}")
