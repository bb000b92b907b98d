"""One account x region's clients, ready to use: built, metered, paced and with cancellable waits.

The run (`collect/`) only orchestrates: it asks `make_scope_clients` for a scope's clients and
calls `fetch` with them. Every client of a scope is counted by the scope's `ApiMeter`, paced per
API operation by one `Pacer` (its own per account x region), and every wait (the pace, smi's and
botocore's throttle backoff) goes through `sleep`, which the run makes end when it is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.account_source import AccountSource
from sagemaker_inventory.aws.answer_checks import check_answers
from sagemaker_inventory.aws.fetch import ThrottleRetry
from sagemaker_inventory.aws.metering import ApiMeter
from sagemaker_inventory.aws.pacing import Pacer, RateCaps
from sagemaker_inventory.aws.retry_waits import wait_retries_with
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.aws.tags import TagLookup

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass(frozen=True)
class ScopeClients:
    """A scope's SageMaker client, its tag lookup (None without tags) and the ThrottleRetry
    for the calls smi asks again itself."""

    sagemaker: SageMakerClient
    tags: TagLookup | None
    retry: ThrottleRetry


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
    return ScopeClients(sagemaker, tags, retry)
