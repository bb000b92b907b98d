"""`smi schema --drift`: where botocore's DescribeTrainingJob and the documented shape part ways.

Walks the documented field tree and botocore's output shape together (as `shape` does to convert
responses), and lists each API member the documentation lacks (with the snake_case name and type
`--all-fields` would give it) and each documented field the installed model no longer has. Below an
undocumented member nothing more is listed: `--all-fields` keeps the member whole. Pure: it reads
the bundled model, never the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore import __version__ as botocore_version
from botocore import xform_name
from botocore.model import ListShape, StructureShape

from sagemaker_inventory.records.shape import (
    STRUCT_TYPES,
    Field,
    describe_output_shape,
    documented_fields,
    model_type,
)


@dataclass(frozen=True)
class Member:
    """One field on one side only: its record path, its API path, and its type."""

    path: str
    api_path: str
    type: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "api_path": self.api_path, "type": self.type}


@dataclass
class Drift:
    """Members the documentation lacks, and documented fields the API no longer has."""

    undocumented: list[Member] = field(default_factory=list)
    missing_from_api: list[Member] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.undocumented or self.missing_from_api)

    def as_dict(self) -> dict[str, Any]:
        return {
            "botocore_version": botocore_version,
            "operation": "DescribeTrainingJob",
            "undocumented": [m.as_dict() for m in self.undocumented],
            "missing_from_api": [m.as_dict() for m in self.missing_from_api],
        }


def find_drift(fields: Sequence[Field] | None = None, shape: StructureShape | None = None) -> Drift:
    """Compare the documented fields (default: the shipped shape) with an output shape (default:
    the installed botocore's DescribeTrainingJob)."""
    drift = Drift()
    _compare(
        documented_fields() if fields is None else fields,
        describe_output_shape() if shape is None else shape,
        "",
        "",
        drift,
    )
    return drift


def _compare(
    fields: Sequence[Field], shape: StructureShape, path: str, api_path: str, drift: Drift
) -> None:
    documented = {f.provider_name for f in fields if f.provider_name is not None}
    for f in fields:
        if f.provider_name is None:
            continue  # account_id and tags: smi's own fields, not API members
        member = shape.members.get(f.provider_name)
        where = f"{api_path}{f.provider_name}"
        if member is None:
            drift.missing_from_api.append(Member(path + f.name, where, f.type))
            continue
        target = member.member if isinstance(member, ListShape) else member
        if f.type in STRUCT_TYPES and isinstance(target, StructureShape):
            below = "[]." if isinstance(member, ListShape) else "."
            _compare(f.fields, target, f"{path}{f.name}{below}", where + below, drift)
    for name, member in shape.members.items():
        if name not in documented:
            drift.undocumented.append(
                Member(path + xform_name(name), api_path + name, model_type(member))
            )
