"""Fully populated DescribeTrainingJob responses generated from botocore's model, for shape tests.

moto fills about 20 of the ~50 top-level members, so the conversion is tested on responses built by
walking botocore's output shape instead: every member at every depth, lists of two, maps keyed like
user data ("MaxDepth", "learning_rate"), tz-aware non-UTC datetimes (as botocore's tzlocal() ones
are), and strings that respect the model's enums and length limits. `response_for_shape` is the
reusable generator (also for property-based tests); `full_response` is one whole job.
"""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from sagemaker_inventory.records.shape import describe_output_shape

REGION = "eu-west-1"
ACCOUNT = "123456789012"
MAP_KEYS = ("MaxDepth", "learning_rate")
# Non-UTC offsets, so a conversion that forgets astimezone(UTC) shows in the output.
TIMEZONES = (timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7)))
EPOCH = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

# Strings whose shape alone does not say what a realistic value looks like.
STRING_VALUES: dict[str, str] = {
    "TrainingImage": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3-gpu",
    "RuleEvaluatorImage": "929884845733.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-debugger:latest",
    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution",
    "TrainingRepositoryCredentialsProviderArn": (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:registry-credentials"
    ),
    "KmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "VolumeKmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "FileSystemId": "fs-0123456789abcdef0",
    "ContentType": "text/csv",
    "FailureReason": "AlgorithmError: [bt] frame 0 in train.py, exit code 1",
    "BaseModelArn": f"arn:aws:sagemaker:{REGION}:aws:hub-content/PublicHub/Model/llama/1.0.0",
    "DatasetArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hub-content/hub/DataSet/reviews/1.0.0",
    # Map values, looked up by key.
    "MaxDepth": "6",
    "learning_rate": "0.05",
}
ARN_KIND = re.compile(r":\[0-9\]\{12\}:([a-z][a-z-]*[a-z])")


def response_for_shape(
    shape: Shape, rng: random.Random, name: str = "", presence: float = 1.0
) -> Any:
    """A value for `shape` (member `name`); optional members are kept with probability presence."""
    if isinstance(shape, StructureShape):
        required = set(shape.required_members)
        return {
            member: response_for_shape(member_shape, rng, member, presence)
            for member, member_shape in shape.members.items()
            if member in required or rng.random() < presence
        }
    if isinstance(shape, ListShape):
        return [response_for_shape(shape.member, rng, name, presence) for _ in range(2)]
    if isinstance(shape, MapShape):
        return {key: response_for_shape(shape.value, rng, key, presence) for key in MAP_KEYS}
    return scalar_for_shape(shape, rng, name)


def scalar_for_shape(shape: Shape, rng: random.Random, name: str) -> Any:
    """A string, number, boolean or datetime that fits the shape's constraints."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if shape.type_name in ("integer", "long"):
        cap = 100_000 if shape.type_name == "integer" else 10**12
        return rng.randint(max(low or 0, 1), min(high or cap, cap))
    if shape.type_name in ("float", "double"):
        return round(rng.uniform(0.0, 1000.0), 4)
    if shape.type_name == "boolean":
        return rng.random() < 0.5
    if shape.type_name == "timestamp":
        return timestamp(rng)
    if shape.type_name == "blob":
        return bytes(rng.randrange(256) for _ in range(8))
    enum = shape.metadata.get("enum")
    if enum:
        return rng.choice(enum)
    return fit_length(string_for(shape, rng, name), low, high)


def timestamp(rng: random.Random) -> datetime:
    """A tz-aware, non-UTC datetime; about half carry milliseconds."""
    offset = timedelta(seconds=rng.randrange(30 * 86400))
    if rng.random() < 0.5:
        offset += timedelta(milliseconds=rng.randrange(1, 1000))
    return (EPOCH + offset).astimezone(rng.choice(TIMEZONES))


def string_for(shape: Shape, rng: random.Random, name: str) -> str:
    if name in STRING_VALUES:
        return STRING_VALUES[name]
    token = f"{rng.randrange(10_000):04d}"
    pattern = shape.metadata.get("pattern", "")
    kind = ARN_KIND.search(pattern)
    if pattern.startswith("arn:") and kind:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind[1]}/{kebab(name)}-{token}"
    if pattern.startswith("(https|s3)://"):
        return f"s3://ml-bucket-{ACCOUNT}/{kebab(name)}/{token}/"
    if name in ("LocalPath", "DirectoryPath"):
        return f"/opt/ml/{kebab(name)}/{token}"
    return f"{kebab(name) or 'value'}-{token}"


def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def fit_length(text: str, low: int | None, high: int | None) -> str:
    if high is not None and len(text) > high:
        text = text[:high]
    if low is not None and len(text) < low:
        text = text.ljust(low, "x")
    return text


def full_response(seed: int = 0) -> dict[str, Any]:
    """A DescribeTrainingJob response with every member at every depth, as boto3 would return it."""
    rng = random.Random(seed)
    response: dict[str, Any] = response_for_shape(describe_output_shape(), rng)
    name = f"resnet-{seed}"
    response["TrainingJobName"] = name
    response["TrainingJobArn"] = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}"
    response["ResponseMetadata"] = {
        "RequestId": f"00000000-0000-0000-0000-{seed:012d}",
        "HTTPStatusCode": 200,
        "HTTPHeaders": {"content-type": "application/x-amz-json-1.1"},
        "RetryAttempts": 0,
    }
    return response


def wire(value: Any) -> Any:
    """What the service sends for a parsed value: timestamps as epoch seconds, blobs as base64
    (a `default` for json.dumps)."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def as_sent(response: dict[str, Any]) -> dict[str, Any]:
    """A parsed response as the service sends it (see `wire`)."""
    sent: dict[str, Any] = json.loads(json.dumps(response, default=wire))
    return sent
