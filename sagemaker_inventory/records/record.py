"""What a record is, as a type: one JSON object of the aws_sagemaker_trainingjob schema, and its
compact JSON text.

`Record` is the read-only view every consumer takes (sinks, columns, reports, checks, the
snapshot); `MutableRecord` is the dict `shape.to_record` builds and JSON parsing returns, for the
few places that make or change one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias

Record: TypeAlias = Mapping[str, Any]
MutableRecord: TypeAlias = dict[str, Any]

# Configured once, not per record as json.dumps does. Keys stay in the record's (documented)
# order: sorting would scramble it. Records are trees, so the search for reference cycles, which
# costs a lookup per list and object, would never find one.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def record_json(value: Record | list[Any]) -> str:
    """A record (or a list or object inside one) as one line of compact JSON, non-ASCII kept:
    what jsonl and json outputs, csv cells and the snapshot write."""
    return _ENCODER.encode(value)
