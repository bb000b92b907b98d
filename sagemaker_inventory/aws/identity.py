"""Who a run's credentials are (STS GetCallerIdentity), asked region by region until one answers,
and the account-wide calls (STS, Organizations) counted for the run summary.

A regional STS endpoint can refuse while the account's other regions work (a region-deny policy,
a region not enabled, a network path), so one region's STS never decides an account's fate: the
regions tried are the profile's (or the environment's), the partition's home region, then the
regions requested. When none answers, the run goes on without knowing: records take their
account from their ARNs, and only the scopes that fail are reported failed.

`Identities` is what one run learns, shared by every thread: each profile's identity (or why no
STS endpoint would say), the region whose STS answered (AssumeRole goes there too), and an
`ApiMeter` per credential source plus one for the run's own discovery calls.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import FailureReason, describe_failure
from sagemaker_inventory.aws.fetch import ThrottleRetry
from sagemaker_inventory.aws.metering import ApiMeter, MeterCounts, RoutedMeter
from sagemaker_inventory.aws.session_maker import session_region
from sagemaker_inventory.records.arns import parse_arn

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory

logger = logging.getLogger(__name__)

# Each partition's original region, which no account can disable (unlike opt-in regions).
PARTITION_HOME_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


@dataclass(frozen=True)
class Caller:
    """Who a set of credentials is (STS GetCallerIdentity)."""

    account_id: str
    arn: str

    @property
    def partition(self) -> str:
        return parse_arn(self.arn).partition


class IdentityUnknown(Exception):
    """No STS endpoint tried would say who the credentials are; `error` says why, briefly."""

    def __init__(self, error: FailureReason) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


def home_region(partition: str) -> str:
    return PARTITION_HOME_REGIONS.get(partition, "us-east-1")


def partition_of_regions(regions: Iterable[str | None]) -> str:
    """The partition of the first region botocore knows, else "aws"."""
    from sagemaker_inventory.aws.regions import UnknownRegionError, partition_of

    for region in regions:
        if region:
            try:
                return partition_of(region)
            except UnknownRegionError:
                continue
    return "aws"


def identity_regions(configured: Sequence[str | None], requested: Sequence[str]) -> list[str]:
    """Where to ask STS, in order and without repeats: the configured regions (profile, then
    environment), the home region of their partition (else of the requested regions'), then the
    requested regions."""
    partition = partition_of_regions([*configured, *requested])
    ordered = [*(r for r in configured if r), home_region(partition), *requested]
    return list(dict.fromkeys(ordered))


class Identities:
    """What one run learned about its credentials; thread-safe.

    Meters are keyed by a credential source's label (an account's own calls: AssumeRole and its
    renewals, the GetCallerIdentity naming a profile's account) or by None (the run's discovery:
    who the caller is, the organization's accounts).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meters: dict[str | None, ApiMeter] = {}
        self._callers: dict[str | None, Caller | FailureReason] = {}
        self._answered: dict[str | None, str] = {}

    def meter(self, key: str | None) -> ApiMeter:
        with self._lock:
            return self._meters.setdefault(key, ApiMeter())

    def counts(self) -> dict[str | None, MeterCounts]:
        """Every meter's counts, as plain data (a worker process sends them to the parent)."""
        with self._lock:
            meters = dict(self._meters)
        return {key: meter.counts() for key, meter in meters.items()}

    def absorb(self, counts: dict[str | None, MeterCounts]) -> None:
        """Add the counts of a worker process's meters to these."""
        for key, each in counts.items():
            self.meter(key).absorb(each)

    def attach_assume_role(self, client: Any) -> None:
        """Count each AssumeRole `client` sends for the account of its role (the role's source
        label is its ARN)."""

        def pick(body: dict[str, Any]) -> ApiMeter | None:
            role = body.get("RoleArn")
            return self.meter(str(role)) if role else None

        RoutedMeter(pick).attach(client)

    def sts_region(self, profile: str | None) -> str | None:
        """The region whose STS answered for `profile`'s credentials, if one was asked."""
        with self._lock:
            return self._answered.get(profile)

    def caller(
        self,
        factory: SessionFactory,
        profile: str | None,
        regions: Sequence[str],
        meter_key: str | None,
    ) -> Caller:
        """Who `profile`'s credentials (None: the default chain) are, asked once per run.

        Raises IdentityUnknown when no region's STS answered (also on later asks)."""
        with self._lock:
            known = self._callers.get(profile)
        if known is None:
            known = self._ask(factory, profile, regions, self.meter(meter_key))
            with self._lock:
                known = self._callers.setdefault(profile, known)
        if isinstance(known, FailureReason):
            raise IdentityUnknown(known)
        return known

    def _ask(
        self, factory: SessionFactory, profile: str | None, regions: Sequence[str], meter: ApiMeter
    ) -> Caller | FailureReason:
        try:
            session = factory.session(profile)
        except Exception as exc:  # e.g. ProfileNotFound: every scope of it will say so too
            return describe_failure(exc)
        configured = [session_region(session), os.environ.get("AWS_REGION")]
        # The factory's stop cuts this wait short: a stopped run never waits out a throttled STS.
        retry = ThrottleRetry(on_retry=meter.add_retry, sleep=factory.stop.sleep)
        failures: list[tuple[str, FailureReason]] = []
        for region in identity_regions(configured, regions):
            try:
                sts = factory.client(session, "sts", region)
                meter.attach(sts)
                caller = retry.call(functools.partial(get_caller_identity, sts))
            except Exception as exc:
                failures.append((region, describe_failure(exc)))
                if not _regional(exc):
                    break  # no credentials, an unreadable profile: no region will do better
                continue
            with self._lock:
                self._answered.setdefault(profile, region)
            return caller
        return _unknown(failures)


def get_caller_identity(sts: Any) -> Caller:
    """Who `sts`'s credentials are: one STS GetCallerIdentity (the one place smi asks)."""
    answer = sts.get_caller_identity()
    return Caller(str(answer["Account"]), str(answer["Arn"]))


def _regional(exc: BaseException) -> bool:
    """Whether another region's STS might answer where this one failed."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    return isinstance(exc, (ClientError, ConnectionError, HTTPClientError))


def _unknown(failures: list[tuple[str, FailureReason]]) -> FailureReason:
    last = failures[-1][1]
    if len(failures) == 1:
        return FailureReason(last.code, f"{last.message}; STS in {failures[0][0]}")
    regions = ", ".join(region for region, _ in failures)
    return FailureReason(last.code, f"STS answered in none of {regions}; last: {last.message}")
