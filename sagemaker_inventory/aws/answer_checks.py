"""Checks every successful answer of the operations smi calls before anything reads it.

botocore parses whatever a 200 carries: `{}`, an HTML page or a truncated document become a
response without `NextToken`, which ends a listing as if it were complete, and a describe answer
about another job looks like any other. `check_answers` hooks a client's public events: a 2xx
answer that lacks a member its operation's output shape requires, whose body is not a JSON
object, or (DescribeTrainingJob) that names another job than the one asked for is retried in
botocore's own retry loop (`needs-retry`), within the client's retry settings and at most
ANSWER_ATTEMPTS times, the backoff waited through the scope's cancellable `wait`. The request is
sent again as it was, so a listing goes on from the same token. Still wrong at the last attempt,
the call raises `UnexpectedAnswerError`, which fails the job (`errors.JOB_OPERATIONS`) or else the
scope. Only answers botocore received are checked (a Stubber's are validated by the Stubber). The
output shapes' required members are read once per process per operation.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sagemaker_inventory.aws.errors import UnexpectedAnswerError

logger = logging.getLogger(__name__)

# The operations smi calls, by the service id botocore names events with.
CHECKED = {
    "sagemaker": frozenset({"ListTrainingJobs", "DescribeTrainingJob", "ListTags"}),
    "resource-groups-tagging-api": frozenset({"GetResources"}),
}
# Where the parsed answer carries what `before-parse` found wrong with the body (a key no output
# shape has), and where the request context carries the job a describe asked for and how many
# bad answers its call has had.
_BODY_PROBLEM = "smi:body-problem"
_ASKED = "smi_asked_job"
_BAD_ANSWERS = "smi_bad_answers"
# Members the model marks required that the service is known to leave out of a true answer:
# DescribeTrainingJob answers ModelArtifacts null for Amazon Nova training jobs, whose artifacts
# go to a managed escrow bucket (aws/sagemaker-python-sdk#6091). Such an answer is still the job's.
OMITTED_BY_SERVICE = {("sagemaker", "DescribeTrainingJob"): frozenset({"ModelArtifacts"})}
# botocore's default attempts per retry mode, and its standard backoff (base 2, capped at 20 s).
_DEFAULT_ATTEMPTS = {"standard": 3, "adaptive": 3, "legacy": 5}
_MAX_BACKOFF = 20.0
# A call's bad answers get at most botocore's standard number of attempts, within the client's:
# they are no sign of load, where smi allows many attempts (throttling is the normal state of a
# large account), and a source of bad answers (a proxy, a captive portal) rarely heals in seconds.
ANSWER_ATTEMPTS = 3


@dataclass(frozen=True)
class Expected:
    """What a successful answer of one operation must hold: its output shape's required members
    (but those OMITTED_BY_SERVICE), and those of the items of each required list of structures
    (a listing's summaries)."""

    required: tuple[str, ...]
    item_required: tuple[tuple[str, tuple[str, ...]], ...]


_expected: dict[tuple[str, str], Expected] = {}
_expected_lock = threading.Lock()


def expected_of(operation: Any) -> Expected:
    """`operation`'s Expected, computed once per process per service and operation."""
    key = (operation.service_model.service_name, operation.name)
    found = _expected.get(key)
    if found is not None:
        return found
    shape = operation.output_shape
    omitted = OMITTED_BY_SERVICE.get(key, frozenset())
    members = shape.required_members if shape is not None else []
    required = tuple(name for name in members if name not in omitted)
    items = []
    for name in required:
        member = shape.members[name]
        item = getattr(member, "member", None)
        if member.type_name == "list" and item is not None and item.type_name == "structure":
            items.append((name, tuple(item.required_members)))
    found = Expected(required, tuple(items))
    with _expected_lock:
        return _expected.setdefault(key, found)


def problem_of(operation: Any, parsed: Any, context: Mapping[str, Any]) -> str | None:
    """What is wrong with `parsed`, a 2xx answer of `operation`, or None when nothing is."""
    if not isinstance(parsed, dict):
        return "answered with no JSON document"
    body_problem = parsed.get(_BODY_PROBLEM)
    if body_problem is not None:
        return str(body_problem)
    expected = expected_of(operation)
    missing = [name for name in expected.required if name not in parsed]
    if missing:
        return f"answered without {', '.join(missing)}, which every answer has"
    for name, item_required in expected.item_required:
        for item in parsed[name]:
            lacking = [key for key in item_required if key not in item]
            if lacking:
                return f"answered {name} without {', '.join(lacking)} in an item"
    asked = context.get(_ASKED)
    answered = parsed.get("TrainingJobName")
    # SageMaker writes job names lower-case in ARNs: a name is unique whatever its case.
    if asked is not None and str(answered).lower() != str(asked).lower():
        return f"answered for job {answered!r}"
    return None


def check_answers(client: Any, wait: Callable[[float], None]) -> None:
    """Check the answers of `client`'s operations that smi calls (nothing for another service):
    retried while attempts remain, the backoff waited through `wait`; then UnexpectedAnswerError."""
    service = client.meta.service_model.service_id.hyphenize()
    operations = CHECKED.get(service)
    if operations is None:
        return
    retries = client.meta.config.retries or {}
    mode = retries.get("mode", "legacy")
    most = retries.get("total_max_attempts") or _DEFAULT_ATTEMPTS.get(mode, 3)
    checks = _Checks(operations, int(most), wait)
    events = client.meta.events
    # Two handlers on the service's events, which look the operation up: each registration
    # inspects the handler (and aliases a new event name), costlier than every check of a scope.
    # Handlers registered before (botocore's retry handler, smi's pacer) see the answer first.
    events.register(f"before-parse.{service}", checks.mark_body)
    events.register(f"needs-retry.{service}", checks.needs_retry)


def _asked_job(operation: Any, request_dict: Any, context: dict[str, Any]) -> None:
    """Note in the request context the job a describe asks for (its body is one JSON member)."""
    if operation.name != "DescribeTrainingJob" or _ASKED in context:
        return
    try:
        context[_ASKED] = json.loads(request_dict["body"])["TrainingJobName"]
    except (KeyError, TypeError, ValueError):
        context[_ASKED] = None


class _Checks:
    """The handlers of one client."""

    def __init__(
        self, operations: frozenset[str], most: int, wait: Callable[[float], None]
    ) -> None:
        self.operations = operations
        self.most = most
        self.wait = wait

    def mark_body(
        self,
        operation_model: Any = None,
        response_dict: Any = None,
        customized_response_dict: Any = None,
        **_: Any,
    ) -> None:
        """A 2xx body that is not a JSON object is parsed as `{}`, with a note saying what it
        was: botocore's parser would make `{}` of HTML, and fail on a JSON array."""
        if getattr(operation_model, "name", None) not in self.operations:
            return
        if not isinstance(response_dict, dict) or not isinstance(customized_response_dict, dict):
            return
        if not 200 <= int(response_dict.get("status_code", 0)) < 300:
            return
        body = response_dict.get("body")
        if isinstance(body, bytes) and _is_json_object(body):
            return
        headers = response_dict.get("headers") or {}
        kind = headers.get("content-type") or "no content type"
        size = len(body) if isinstance(body, bytes) else 0
        response_dict["body"] = b"{}"
        customized_response_dict[_BODY_PROBLEM] = (
            f"answered with a body that is not a JSON document ({size} bytes, {kind})"
        )

    def needs_retry(
        self,
        response: Any = None,
        operation: Any = None,
        attempts: int = 1,
        request_dict: Any = None,
        **_: Any,
    ) -> float | None:
        """0 (retry now, the backoff waited) for a bad 2xx answer while attempts remain; at
        the last, UnexpectedAnswerError, raised out of the call."""
        if getattr(operation, "name", None) not in self.operations:
            return None
        context = request_dict.get("context") if isinstance(request_dict, dict) else None
        context = context if isinstance(context, dict) else {}
        _asked_job(operation, request_dict, context)
        problem = _problem_of_response(operation, response, context)
        if problem is None:
            return None
        bad = context[_BAD_ANSWERS] = context.get(_BAD_ANSWERS, 0) + 1
        if attempts >= self.most or bad >= ANSWER_ATTEMPTS:
            raise UnexpectedAnswerError(operation.name, problem, attempts, context.get(_ASKED))
        logger.info("%s: attempt %d %s; retrying", operation.name, attempts, problem)
        # botocore's standard backoff, waited where a cancelled run cuts it short.
        self.wait(min(random.random() * 2 ** (bad - 1), _MAX_BACKOFF))
        return 0


def _problem_of_response(operation: Any, response: Any, context: Mapping[str, Any]) -> str | None:
    """The problem of a (http response, parsed) pair of `needs-retry`, None for any other."""
    if not isinstance(response, tuple) or len(response) != 2:
        return None  # no answer (a connection failure): botocore's to retry
    http_response, parsed = response
    if getattr(http_response, "status_code", 200) >= 300:
        return None  # an error answer: botocore's to retry or raise
    return problem_of(operation, parsed, context)


def _is_json_object(body: bytes) -> bool:
    if body[:1] == b"{" and body[-1:] == b"}":
        return True
    stripped = body.strip()
    return stripped[:1] == b"{" and stripped[-1:] == b"}"
