"""Convert one DescribeTrainingJob response into one aws_sagemaker_trainingjob record, without I/O.

The documented shape ships as package data (derived from the spec page by scripts/derive_shape.py);
botocore's service *model* (bundled, no network) says how each response member is typed. Both are
walked together once per mode into a conversion plan: structure members are renamed to their
documented snake_case names, map keys stay verbatim (they are user data, e.g. hyperparameters),
timestamps become ISO-8601 UTC strings, and absent members are omitted. `all_fields=True` also keeps
members the page does not document, named by botocore's `xform_name`, after the documented ones.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from botocore import xform_name
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

from sagemaker_inventory.records.conversion import (
    ListOf,
    MapOf,
    Member,
    RecordConverter,
    StructureOf,
    compile_record,
)
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.records.timestamps import format_timestamp

RESOURCE = "aws_sagemaker_trainingjob"
STRUCT_TYPES = frozenset({"STRUCT", "UNORDERED_LIST_STRUCT"})

# Model scalar type -> the page's type vocabulary (used for members the page does not document).
_SCALAR_TYPES = {
    "string": "STRING",
    "integer": "INT32",
    "long": "INT64",
    "float": "FLOAT",
    "double": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Field:
    """One field of the record: documented name and type, the response member it comes from."""

    name: str
    type: str
    provider_name: str | None
    description: str | None
    fields: tuple[Field, ...] = ()
    documented: bool = True


def documented_fields() -> tuple[Field, ...]:
    """The fields the spec page documents, nested, in documentation order."""
    return _documented_fields()


@functools.cache
def _documented_fields() -> tuple[Field, ...]:
    data = resources.files("sagemaker_inventory") / "data" / f"{RESOURCE}.json"
    document = json.loads(data.read_text(encoding="utf-8"))
    return tuple(_field_from_json(item) for item in document["fields"])


def _field_from_json(item: Mapping[str, Any]) -> Field:
    return Field(
        name=item["name"],
        type=item["type"],
        provider_name=item["provider_name"],
        description=item["description"],
        fields=tuple(_field_from_json(child) for child in item.get("fields", ())),
    )


def record_fields(
    *, all_fields: bool = False, shape: StructureShape | None = None
) -> tuple[Field, ...]:
    """The record's fields in output order: documented ones, then (all_fields) the rest of
    `shape` (DescribeTrainingJob's output shape; default: botocore's bundled model's)."""
    if not all_fields:
        return documented_fields()
    return _all_record_fields(shape or describe_output_shape())


@functools.cache
def _all_record_fields(shape: StructureShape) -> tuple[Field, ...]:
    return _merge_undocumented(documented_fields(), shape, ())


def _merge_undocumented(
    fields: Sequence[Field], shape: StructureShape, seen: tuple[str, ...]
) -> tuple[Field, ...]:
    """Documented fields (completed recursively), then the other members in model order."""
    merged = [
        replace(f, fields=_merge_undocumented(f.fields, _structure_of(shape, f), seen))
        if f.type in STRUCT_TYPES
        else f
        for f in fields
    ]
    documented = {f.provider_name for f in fields}
    for name, member in shape.members.items():
        if name not in documented:
            merged.append(_model_field(name, member, (*seen, shape.name)))
    _check_unique([f.name for f in merged], shape.name)
    return tuple(merged)


def _model_field(name: str, shape: Shape, seen: tuple[str, ...]) -> Field:
    """An undocumented member as a Field, named by xform_name, with all its own members."""
    target = shape.member if isinstance(shape, ListShape) else shape
    children: tuple[Field, ...] = ()
    if isinstance(target, StructureShape):
        if target.name in seen:
            raise TypeError(f"recursive shape {target.name} cannot become a record")
        children = tuple(
            _model_field(child, member, (*seen, target.name))
            for child, member in target.members.items()
        )
        _check_unique([c.name for c in children], target.name)
    return Field(xform_name(name), model_type(shape), name, None, children, documented=False)


def model_type(shape: Shape) -> str:
    """The page's type name for a model shape (lists and maps of scalars, structures)."""
    if isinstance(shape, StructureShape):
        return "STRUCT"
    if isinstance(shape, ListShape):
        if isinstance(shape.member, StructureShape):
            return "UNORDERED_LIST_STRUCT"
        return f"UNORDERED_LIST_{_scalar_type(shape.member)}"
    if isinstance(shape, MapShape):
        return f"MAP_{_scalar_type(shape.key)}_{_scalar_type(shape.value)}"
    return _scalar_type(shape)


def _scalar_type(shape: Shape) -> str:
    try:
        return _SCALAR_TYPES[shape.type_name]
    except KeyError:
        raise TypeError(f"no record type for {shape.name} ({shape.type_name})") from None


def _check_unique(names: Sequence[str], owner: str) -> None:
    if len(set(names)) != len(names):
        raise TypeError(f"two members of {owner} get the same record name")


def field_paths(*, all_fields: bool = False) -> list[str]:
    """Dotted paths through structures, not into lists, pre-order: resource_config.instance_type."""
    return list(_field_paths(all_fields))


@functools.cache
def _field_paths(all_fields: bool) -> tuple[str, ...]:
    return tuple(_iter_paths(record_fields(all_fields=all_fields), ""))


def _iter_paths(fields: Iterable[Field], prefix: str) -> Iterator[str]:
    for f in fields:
        yield prefix + f.name
        if f.type == "STRUCT":
            yield from _iter_paths(f.fields, f"{prefix}{f.name}.")


def format_tags(tag_list: Iterable[Mapping[str, str]]) -> list[str]:
    """AWS tags ([{"Key": k, "Value": v}, ...]) as the record's sorted "k:v" strings."""
    return sorted(f"{tag['Key']}:{tag.get('Value', '')}" for tag in tag_list)


def to_record(
    response: Mapping[str, Any],
    *,
    account_id: str,
    tags: Iterable[str],
    all_fields: bool = False,
    shape: StructureShape | None = None,
) -> MutableRecord:
    """One DescribeTrainingJob response (as boto3 returns it, or its JSON document as sent) -> one
    record; tags end up sorted.

    `shape` is DescribeTrainingJob's output shape in the model the response was parsed with (a run
    hands over its clients' model: see `aws.service_models.sagemaker_model`); the default is
    botocore's bundled model's, loaded once."""
    extras = {"account_id": account_id, "tags": sorted(tags)}
    return record_converter(all_fields=all_fields, shape=shape)(response, extras)


_PLAN_LOCK = threading.Lock()


def record_converter(
    *, all_fields: bool = False, shape: StructureShape | None = None
) -> RecordConverter:
    """`to_record`'s conversion as one function (response, {"account_id": ..., "tags": sorted})
    -> record, compiled once per mode and shape (see `records.conversion`)."""
    # Every describe worker converts its first record at the same moment: unlocked, each of them
    # would build the plan (and, by default, load botocore's SageMaker model) again, doubling a
    # run's CPU and peak memory. Plans are kept per shape object: hand over one per process.
    with _PLAN_LOCK:
        return _compiled_plan(all_fields, shape or describe_output_shape())


@functools.cache
def _compiled_plan(all_fields: bool, shape: StructureShape) -> RecordConverter:
    return compile_record(conversion_plan(all_fields=all_fields, shape=shape))


def conversion_plan(*, all_fields: bool, shape: StructureShape) -> StructureOf:
    """What `to_record` does, as data: each record key, the response member it comes from and how
    its value is converted."""
    return _structure_plan(RESOURCE, record_fields(all_fields=all_fields, shape=shape), shape)


def _structure_plan(name: str, fields: Sequence[Field], shape: StructureShape) -> StructureOf:
    members: list[tuple[str | None, str, Member]] = []
    for f in fields:
        if f.provider_name is None:
            # account_id and tags are not response members: the caller supplies them.
            members.append((None, f.name, None))
            continue
        member = _member(shape, f.provider_name)
        members.append((f.provider_name, f.name, _conversion(f.name, member, f.fields)))
    return StructureOf(name, tuple(members))


def _conversion(name: str, shape: Shape, children: Sequence[Field]) -> Member:
    """How to convert a value of this shape; None means "keep as is" (strings, ints, bools)."""
    if isinstance(shape, StructureShape):
        return _structure_plan(name, children, shape)
    if isinstance(shape, ListShape):
        return ListOf(_conversion(name, shape.member, children))
    if isinstance(shape, MapShape):
        # Keys are user data (hyperparameter names, environment variables): never renamed.
        return MapOf(_conversion(name, shape.value, ()))
    if shape.type_name == "timestamp":
        return format_timestamp
    if shape.type_name in ("float", "double"):
        return float
    return None


def _member(shape: StructureShape, name: str) -> Shape:
    try:
        return shape.members[name]
    except KeyError:
        raise LookupError(
            f"documented member {name} is not in botocore's {shape.name}: botocore too old?"
        ) from None


def _structure_of(shape: StructureShape, f: Field) -> StructureShape:
    member = _member(shape, f.provider_name or "")
    target = member.member if isinstance(member, ListShape) else member
    if not isinstance(target, StructureShape):
        raise TypeError(f"{f.name} is {f.type} in the doc but {member.type_name} in the model")
    return target


@functools.cache
def describe_output_shape(model: ServiceModel | None = None) -> StructureShape:
    """DescribeTrainingJob's output shape in `model`, a SageMaker service model (default:
    botocore's bundled one, read from its data files; no network)."""
    model = model or bundled_sagemaker_model()
    shape = model.operation_model("DescribeTrainingJob").output_shape
    if not isinstance(shape, StructureShape):
        raise TypeError("DescribeTrainingJob has no structured output in botocore's model")
    return shape


def bundled_sagemaker_model() -> ServiceModel:
    """botocore's SageMaker service model, read from its data files (AWS_DATA_PATH honoured), as
    a session would load it; no session, no credentials, no network."""
    from botocore.loaders import create_loader

    loader = create_loader(os.environ.get("AWS_DATA_PATH"))
    return ServiceModel(loader.load_service_model("sagemaker", "service-2"), "sagemaker")
