"""What a record is, as a type: one JSON object of the aws_sagemaker_trainingjob schema.

`Record` is the read-only view every consumer takes (sinks, columns, reports, checks, the
snapshot); `MutableRecord` is the dict `shape.to_record` builds and JSON parsing returns, for the
few places that make or change one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

Record: TypeAlias = Mapping[str, Any]
MutableRecord: TypeAlias = dict[str, Any]
