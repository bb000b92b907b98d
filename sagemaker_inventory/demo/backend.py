"""The embedded demo: moto's in-process AWS seeded with realistic SageMaker training jobs.

`smi collect --demo` runs the real pipeline (boto3 clients, ListTrainingJobs paging,
DescribeTrainingJob, tags) inside `demo_backend()`, and tests reuse `seed_training_jobs()` to build
accounts of any size. Jobs are created through a real boto3 client, then made lifelike by editing
moto's backend objects, because moto creates every job as Completed at "now" with a canned metric
definition. What each job looks like (recipes, random draws, the CreateTrainingJob request) is
planned in `demo_jobs`; this module owns the moto side: the fake environment, seeding and the
lifecycle edits. moto is the optional `demo` extra: it is imported lazily and its absence raises
`DemoUnavailableError`.

The demo is not part of the AWS edge: it plays AWS (moto) rather than talking to it, and it never
seeds outside an active mock. Its sessions and its one identity call come from `aws/` (the one
place that makes sessions and asks GetCallerIdentity), so it imports neither boto3 nor botocore.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.identity import get_caller_identity
from sagemaker_inventory.aws.session_maker import full_model_session
from sagemaker_inventory.demo.jobs import DEMO_TAG, TERMINAL_STATUSES, JobPlan, plan_jobs
from sagemaker_inventory.demo.requests import (
    build_environment,
    build_metric_definitions,
    build_request,
)

if TYPE_CHECKING:
    import boto3

DEMO_REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
DEMO_ACCOUNT_ID = "123456789012"  # moto's default account
DEMO_JOBS_PER_REGION = 25
DEMO_RNG_SEED = 20260301
DEMO_NAME_PREFIX = "smi-demo"
DEMO_NOTICE = (
    "DEMO DATA: synthetic training jobs served by an in-process AWS mock (moto), account "
    f"{DEMO_ACCOUNT_ID}, regions {', '.join(DEMO_REGIONS)}, each tagged "
    f"{DEMO_TAG[0]}:{DEMO_TAG[1]}. Nothing here comes from your AWS account."
)

_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": DEMO_REGIONS[0],
    # A user's config files can name an endpoint_url; moto lets unmatched URLs reach the network.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET_NAMES = frozenset(
    {
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
    }
)
_UNSET_PREFIX = "AWS_ENDPOINT_URL_"  # per-service endpoints, e.g. AWS_ENDPOINT_URL_SAGEMAKER
_NAME_PREFIX_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,39}")
_MAX_COUNT = 9999
_STATUS_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped: MaxRuntimeInSeconds exceeded",
}


def demo_anchor(now: datetime | None = None) -> datetime:
    """The demo's clock: the start of the current UTC day. Every job's times are offsets before
    it, so that relative filters (--created-after 7d) and --running without --now answer as
    they would on a live account, while every run of the same day gives the same records
    (`--snapshot` reports no change) and the same report."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


class DemoUnavailableError(RuntimeError):
    """The demo needs moto, which is the optional `demo` extra."""

    def __init__(self) -> None:
        super().__init__("the demo needs moto: pip install 'sagemaker-inventory[demo]'")


@contextmanager
def demo_backend(jobs_per_region: int | None = None) -> Iterator[None]:
    """Run the body against moto's in-process AWS, seeded with demo jobs in each of DEMO_REGIONS,
    their times fixed relative to `demo_anchor()` (the start of the UTC day) and each tagged
    DEMO_TAG.

    Fake credentials replace the user's for the duration and everything is restored afterwards:
    build sessions and clients inside the block, since botocore reads the environment when they
    are made.
    """
    mock_aws = _import_mock_aws()
    count = DEMO_JOBS_PER_REGION if jobs_per_region is None else jobs_per_region
    # mock_credentials=False keeps the "testing" keys set here instead of moto's own fake keys.
    config = {
        "core": {
            "mock_credentials": False,
            "passthrough": {"urls": [], "services": []},
            "reset_boto3_session": True,
            "service_whitelist": None,
        }
    }
    with _fake_aws_environment(), mock_aws(config=config):
        session, anchor = demo_session(), demo_anchor()
        for region in DEMO_REGIONS:
            seed_training_jobs(region, count, session=session, anchor=anchor)
        yield


def seed_training_jobs(
    region: str,
    count: int,
    *,
    rng_seed: int = DEMO_RNG_SEED,
    name_prefix: str = DEMO_NAME_PREFIX,
    anchor: datetime | None = None,
    session: boto3.Session | None = None,
) -> list[str]:
    """Create `count` realistic training jobs in `region` of an active moto mock; return the names,
    newest first (the order they are created and listed in).

    Names, statuses and specs depend only on (rng_seed, region, count, name_prefix); times are
    offsets before `anchor` (default: now), so a fixed anchor makes the whole account reproducible.
    Jobs are created newest first: moto lists jobs in creation order whatever SortOrder asks,
    and smi asks for newest first (SortOrder=Descending), as the demo's records then come.
    `session` (e.g. one holding credentials of a role assumed in another moto account) picks the
    account; the default is moto's 123456789012.
    """
    _check_seed_arguments(count, name_prefix)
    _require_active_mock()
    now = _naive_utc(anchor or datetime.now(timezone.utc))
    session = session or demo_session()
    account = get_caller_identity(session.client("sts", region_name=region)).account_id
    client = session.client("sagemaker", region_name=region)
    plans = plan_jobs(region, count, random.Random(f"{rng_seed}:{region}"), name_prefix)
    newest_first = plans[::-1]
    for plan in newest_first:
        client.create_training_job(**build_request(plan, region, account))
        _apply_lifecycle(_backend_job(account, region, plan.name), plan, now)
    return [plan.name for plan in newest_first]


def demo_session() -> boto3.Session:
    """A new boto3 Session for the active demo; it shares botocore's parsed models between calls.

    Sessions read the environment when made: call this inside demo_backend (or another mock).
    """
    return full_model_session()


def _import_mock_aws() -> Any:
    try:
        from moto import mock_aws
    except ImportError as error:
        raise DemoUnavailableError() from error
    return mock_aws


def _require_active_mock() -> None:
    """Refuse to run outside a mock: the same calls would create real (billed) jobs in AWS."""
    try:
        from moto.core.models import botocore_stubber
    except ImportError as error:
        raise DemoUnavailableError() from error
    if not botocore_stubber.enabled:
        raise RuntimeError(
            "seed_training_jobs needs an active moto mock (demo_backend or mock_aws)"
        )


def _check_seed_arguments(count: int, name_prefix: str) -> None:
    if not 0 <= count <= _MAX_COUNT:
        raise ValueError(f"count must be between 0 and {_MAX_COUNT}, not {count}")
    if not _NAME_PREFIX_PATTERN.fullmatch(name_prefix):
        raise ValueError(f"name_prefix must be 1-40 letters, digits or hyphens: {name_prefix!r}")


@contextmanager
def _fake_aws_environment() -> Iterator[None]:
    doomed = [name for name in os.environ if name in _UNSET_NAMES or name.startswith(_UNSET_PREFIX)]
    saved = {name: os.environ.get(name) for name in [*_FAKE_ENVIRONMENT, *doomed]}
    try:
        for name in doomed:
            del os.environ[name]
        os.environ.update(_FAKE_ENVIRONMENT)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _naive_utc(moment: datetime) -> datetime:
    """moto keeps naive UTC datetimes and compares request filters with them: store the same."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _backend_job(account: str, region: str, name: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region].training_jobs[name]


def _apply_lifecycle(job: Any, plan: JobPlan, anchor: datetime) -> None:
    """Give moto's job (always Completed, created now) the plan's status, times and extras.

    moto answers DescribeTrainingJob with every non-None attribute, camel-cased
    (billable_time_in_seconds -> BillableTimeInSeconds) and filtered by botocore's output shape:
    None leaves a member out, and a name that camel-cases wrongly (auto_ml_job_arn) never shows.
    """
    created = anchor - timedelta(seconds=plan.age)
    started = (
        None if plan.secondary_status == "Starting" else created + timedelta(seconds=plan.startup)
    )
    last = started + timedelta(seconds=plan.runtime) if started else created
    finished = plan.status in TERMINAL_STATUSES
    job.creation_time = created
    job.training_start_time = started
    job.training_end_time = last if finished else None
    job.last_modified_time = last
    job.training_job_status = plan.status
    job.secondary_status = plan.secondary_status
    job.failure_reason = plan.failure_reason
    job.training_time_in_seconds = plan.runtime if finished else None
    job.billable_time_in_seconds = plan.billable if finished else None
    job.secondary_status_transitions = _transitions(plan, created, started, last)
    completed = plan.status == "Completed"
    job.final_metric_data_list = (
        [{"MetricName": name, "Value": value, "Timestamp": last} for name, value in plan.metrics]
        if completed
        else None
    )
    # moto replaces MetricDefinitions with a sample and drops Environment: put back what was sent.
    job.algorithm_specification["MetricDefinitions"] = build_metric_definitions(plan.recipe.family)
    job.environment = build_environment(plan.recipe) or None
    if job.debug_rule_configurations:
        outcome = {"Completed": "NoIssuesFound", "Failed": "Error", "Stopped": "Stopped"}
        job.debug_rule_evaluation_statuses = [
            {
                "RuleConfigurationName": "LossNotDecreasing",
                "RuleEvaluationStatus": outcome.get(plan.status, "InProgress"),
                "LastModifiedTime": last,
            }
        ]


def _transitions(
    plan: JobPlan, created: datetime, started: datetime | None, last: datetime
) -> list[dict[str, Any]]:
    """SecondaryStatusTransitions: a phase ends when the next starts; a live job's last is open."""
    phases: list[tuple[str, datetime]] = [("Starting", created)]
    if started:
        download = timedelta(seconds=min(60, plan.runtime // 10))
        phases += [("Downloading", started), ("Training", started + download)]
    if plan.status == "Completed":
        phases.append(("Uploading", last - timedelta(seconds=min(30, plan.runtime // 10))))
    if plan.secondary_status not in {"Starting", "Training"}:
        phases.append((plan.secondary_status, last))
    transitions = []
    for index, (status, start) in enumerate(phases):
        transition = {
            "Status": status,
            "StartTime": start,
            "StatusMessage": _STATUS_MESSAGES[status],
        }
        if index + 1 < len(phases):
            transition["EndTime"] = phases[index + 1][1]
        elif plan.status in TERMINAL_STATUSES:
            transition["EndTime"] = start
        transitions.append(transition)
    return transitions
