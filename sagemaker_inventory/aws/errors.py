"""Sorting AWS failures into what they mean for a run: skip the job, fail the scope, or retry.

A scope (one account x one region) that fails is reported with the error's code and message and the
run goes on; a job that vanished between List and Describe is skipped; throttling is retried; an
answer that is not what its operation returns (`UnexpectedAnswerError`, see `answer_checks`) fails
the job it was about, or else its scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# botocore's own list (botocore.retries.standard.ThrottlingErrorDetector) plus SageMaker's spelling.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)

# What AWS answers in a region that is not enabled for the account (opt-in regions).
REGION_NOT_ENABLED_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired"}
)

# SageMaker answers a Describe for a deleted job with ValidationException "Could not find ..." or
# "Requested resource not found"; botocore's model names ResourceNotFound.
_VANISHED_MESSAGE = re.compile(r"could not find|not found|does not exist", re.IGNORECASE)


# The operations whose answers are about one job: a bad one fails that job, not its scope.
JOB_OPERATIONS = frozenset({"DescribeTrainingJob", "ListTags"})


class UnexpectedAnswerError(Exception):
    """A successful (2xx) answer that is not what its operation returns -- a required member
    missing, a body that is no JSON document, another job than the one asked for -- still so
    after the attempts allowed (see `answer_checks`). `job`: the job asked for, if any."""

    code = "UnexpectedAnswer"

    def __init__(self, operation: str, problem: str, attempts: int, job: str | None = None):
        self.operation, self.problem, self.attempts, self.job = operation, problem, attempts, job
        about = f" of job {job!r}" if job else ""
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"{operation}{about} {problem} ({tries})")

    def __reduce__(self) -> Any:
        return (type(self), (self.operation, self.problem, self.attempts, self.job))


@dataclass(frozen=True)
class FailureReason:
    """Why a scope (or an account's credentials) failed: an AWS error code, or the exception's
    name, and its message. A value kept in results and reports, never raised."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (or UnexpectedAnswerError's own), else None."""
    if isinstance(exc, UnexpectedAnswerError):
        return exc.code
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def is_vanished_job(exc: BaseException) -> bool:
    """True when Describe failed because the job no longer exists."""
    code = error_code(exc)
    if code in {"ResourceNotFound", "ResourceNotFoundException"}:
        return True
    if code == "ValidationException":
        return bool(_VANISHED_MESSAGE.search(_message(exc)))
    return False


def is_job_failure(exc: BaseException) -> bool:
    """True when `exc` fails one job (an unexpected answer about it), not the job's scope."""
    return isinstance(exc, UnexpectedAnswerError) and exc.operation in JOB_OPERATIONS


def is_region_not_enabled(exc: BaseException) -> bool:
    return error_code(exc) in REGION_NOT_ENABLED_CODES


NO_CREDENTIALS = "NoCredentials"
NO_CREDENTIALS_FIX = (
    "no AWS credentials found: run `aws configure` or `aws sso login`, pass --profile, or set"
    " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; `smi collect --demo` needs none"
)


def describe_failure(exc: BaseException) -> FailureReason:
    """A short code + message for any exception raised while collecting a scope."""
    code = error_code(exc)
    if code is not None:
        return FailureReason(code, _message(exc))
    name = type(exc).__name__
    if name == "NoCredentialsError":
        # Short: it is the reason of every scope that fails for it; the fix (NO_CREDENTIALS_FIX)
        # is said once per run.
        return FailureReason(NO_CREDENTIALS, "no AWS credentials found")
    return FailureReason(name, str(exc) or name)


def _message(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)
