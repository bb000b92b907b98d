"""One account x region's clients, ready to use: built, metered, paced and with cancellable waits.

The run (`collect/`) only orchestrates: it asks `make_scope_clients` for a scope's clients and
calls `fetch` with them. Every client of a scope is counted by the scope's `ApiMeter`, paced per
API operation by one `Pacer` (its own per account x region), and every wait (the pace, smi's and
botocore's throttle backoff) goes through `sleep`, which the run makes end when it is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sagemaker_inventory.aws.answer_checks import check_answers
from sagemaker_inventory.aws.express import OPERATION, ExpressDescribe, express_describe
from sagemaker_inventory.aws.fetch import ThrottleRetry
from sagemaker_inventory.aws.metering import ApiMeter
from sagemaker_inventory.aws.pacing import Pacer, RateCaps
from sagemaker_inventory.aws.retry_waits import wait_retries_with
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.aws.tags import TagLookup
from sagemaker_inventory.collect.scopes import AccountSource

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass(frozen=True)
class ScopeClients:
    """A scope's SageMaker client, its tag lookup (None without tags), the ThrottleRetry for
    the calls smi asks again itself, and its express describes (None where it has none)."""

    sagemaker: SageMakerClient
    tags: TagLookup | None
    retry: ThrottleRetry
    express: ExpressDescribe | None = None


def make_scope_clients(
    factory: SessionFactory,
    source: AccountSource,
    region: str,
    *,
    meter: ApiMeter,
    rate_caps: RateCaps,
    sleep: Callable[[float], None],
    with_tags: bool,
) -> ScopeClients:
    """The clients of `source`'s account in `region`. The tagging client is built only once a job
    is listed: a region without jobs needs none."""
    session = factory.session_for(source)
    pacer = Pacer(rate_caps, sleep=sleep)

    def ready(service: str) -> Any:
        client = factory.client(session, service, region)
        meter.attach(client)
        pacer.attach(client)
        wait_retries_with(client, sleep)  # botocore's own backoff, cancellable too
        check_answers(client, sleep)  # a 2xx that is not a whole answer is retried, then raised
        return client

    sagemaker = ready("sagemaker")
    retry = ThrottleRetry(on_retry=meter.add_retry, sleep=sleep)
    tags = (
        TagLookup(sagemaker, lambda: ready("resourcegroupstaggingapi"), retry)
        if with_tags
        else None
    )
    express = express_describe(sagemaker, _credentials(session), pacer.pace(OPERATION), meter)
    return ScopeClients(sagemaker, tags, retry, express)


def _credentials(session: Any) -> Credentials | None:
    """The session's credentials (those its clients sign with), or None if it has none yet."""
    try:
        return cast("Credentials | None", session.get_credentials())
    except Exception:  # a broken profile fails the scope's first call, as before
        return None
