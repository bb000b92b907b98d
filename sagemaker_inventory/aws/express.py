"""DescribeTrainingJob in one lean attempt: botocore's credentials and signer, none of the
per-call machinery a describe does not need.

A describe is CPU-bound, and most of its CPU in botocore goes to machinery around a request that
differs from the last one only in the job's name: validating and serialising that one string,
resolving the endpoint by its rule set, building the request through a chain of events,
preparing it, wrapping and parsing the answer, and the retry handler's bookkeeping.
`ExpressDescribe` learns the request's fixed parts (URL, User-Agent, target, signing scope) from a
describe botocore sent over the client's KeepAliveTransport, then sends the next describes
itself: the body is the name; botocore's SigV4Auth signs it with the session's current
credentials (refreshed by botocore as they age); the scope's Pacer gives the slot and learns from
the answer, as it does in botocore's events; the ApiMeter counts it. A 200 answer is the JSON
document as sent, which is what botocore's parse gives for this shape (see `parsing`).

Every other outcome is botocore's to handle, by its full call, which retries as configured: an
error answer (a throttle is first learnt by the pacer), a broken connection, no credentials.
Until a describe has gone over the transport (the scope's first; never, when moto's mock or a
Stubber answers in botocore's events), every describe is botocore's own.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import THROTTLING_CODES
from sagemaker_inventory.aws.keep_alive import KeepAliveTransport, request_fields
from sagemaker_inventory.aws.signing import Fields, sign

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from botocore.credentials import Credentials

    from sagemaker_inventory.aws.metering import ApiMeter
    from sagemaker_inventory.aws.pacing import OperationPace

logger = logging.getLogger(__name__)

OPERATION = "DescribeTrainingJob"
_TARGET = f"SageMaker.{OPERATION}"
# Fields that belong to one request (signed anew, or counted anew) rather than to every describe.
_PER_REQUEST = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "content-length",
    }
)
_SIGV4 = "AWS4-HMAC-SHA256 "
# What uuid.uuid4() makes of 16 random bytes: version 4 in bits 76-79, RFC 4122's variant in 62-63.
_UUID4_CLEARED = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


@dataclass(frozen=True)
class Template:
    """What every describe of one client shares: where it goes, its fixed fields, its scope."""

    url: str
    fields: Fields
    scope: tuple[str, str]  # (region, signing name)

    @classmethod
    def of(cls, request: AWSPreparedRequest) -> Template | None:
        """The template of a describe botocore sent, or None if it is not one smi can repeat."""
        fields = [(str(n), _text(v)) for n, v in request_fields(request.headers)]
        lookup = {name.lower(): value for name, value in fields}
        scope = _credential_scope(lookup.get("authorization", ""))
        if lookup.get("x-amz-target") != _TARGET or scope is None or request.method != "POST":
            return None
        kept = Fields((name, value) for name, value in fields if name.lower() not in _PER_REQUEST)
        return cls(request.url, kept, scope)


def express_describe(
    client: Any, credentials: Credentials | None, pace: OperationPace, meter: ApiMeter
) -> ExpressDescribe | None:
    """Express describes for `client`, or None when its requests do not go over a
    KeepAliveTransport or it has no credentials to sign with."""
    transport = getattr(getattr(client, "_endpoint", None), "http_session", None)
    if not isinstance(transport, KeepAliveTransport) or credentials is None:
        return None
    retries = client.meta.config.retries or {}
    return ExpressDescribe(transport, credentials, pace, meter, retries.get("total_max_attempts"))


class ExpressDescribe:
    """Describes of one client, sent the lean way once botocore has shown the way."""

    def __init__(
        self,
        transport: KeepAliveTransport,
        credentials: Credentials,
        pace: OperationPace,
        meter: ApiMeter,
        max_attempts: int | None,
    ) -> None:
        self._transport = transport
        self._credentials = credentials
        self._pace = pace
        self._meter = meter
        self._attempts = f"attempt=1; max={max_attempts}" if max_attempts else "attempt=1"
        self.template: Template | None = None
        transport.on_answer = self._learn

    def describe(self, name: str) -> dict[str, Any] | None:
        """The job's description as sent, or None when botocore's own call must answer."""
        template = self.template
        if template is None:
            return None
        body = json.dumps({"TrainingJobName": name}).encode()
        self._pace.acquire()  # before signing: a long wait must not age the signature
        try:
            fields = self._signed(template, body)
        except Exception:  # no keys, a failed refresh: botocore's call says so its own way
            return None
        try:
            answer = self._transport.post(template.url, fields.items(), body)
        except Exception as error:
            self._meter.count_direct(OPERATION, answered=False)
            logger.info("%s: a direct attempt failed (%s); botocore retries it", OPERATION, error)
            return None
        document = _document(answer.body) if answer.status == 200 else None
        self._pace.answered(document is None and _is_throttle(answer.body, answer.headers))
        self._meter.count_direct(OPERATION, answered=document is not None)
        return document

    def _learn(self, request: AWSPreparedRequest, status: int) -> None:
        if self.template is None and status == 200:
            self.template = Template.of(request)

    def _signed(self, template: Template, body: bytes) -> Fields:
        """The request's fields, signed."""
        fields = template.fields.copy()
        fields["amz-sdk-invocation-id"] = _invocation_id()
        fields["amz-sdk-request"] = self._attempts
        credentials = self._credentials.get_frozen_credentials()
        sign(template.url, fields, body, credentials, template.scope)
        fields["Content-Length"] = str(len(body))
        return fields


def _invocation_id() -> str:
    """A random UUID as botocore writes one (`str(uuid.uuid4())`), without the UUID object."""
    bits = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEARED | _UUID4_SET
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _document(body: bytes) -> dict[str, Any] | None:
    """A describe's JSON document, or None if the body is not one (botocore's call will say
    what is wrong with it)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _credential_scope(authorization: str) -> tuple[str, str] | None:
    """(region, signing name) of a SigV4 Authorization field, or None if it is not SigV4."""
    if not authorization.startswith(_SIGV4):
        return None
    credential = authorization[len(_SIGV4) :].split(",", 1)[0].strip()
    parts = credential.removeprefix("Credential=").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return parts[2], parts[3]


def _is_throttle(body: bytes, headers: list[tuple[str, str]]) -> bool:
    """Whether an error answer of a JSON protocol is a throttle (its code, botocore's list)."""
    code = ""
    for name, value in headers:
        if name.lower() == "x-amzn-errortype":
            code = value
    if not code:
        try:
            document = json.loads(body)
        except ValueError:
            return False
        code = (
            str(document.get("__type") or document.get("code") or "")
            if isinstance(document, dict)
            else ""
        )
    # "prefix#Code:http://..." as some services send it: the code is between # and :.
    return code.split("#")[-1].split(":")[0] in THROTTLING_CODES


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
