"""The embedded demo: moto's in-process AWS seeded with realistic SageMaker training jobs.

`smi collect --demo` runs the real pipeline (boto3 clients, ListTrainingJobs paging,
DescribeTrainingJob, tags) inside `demo_backend()`, and tests reuse `seed_training_jobs()` to build
accounts of any size. Jobs are created through a real boto3 client, then made lifelike by editing
moto's backend objects, because moto creates every job as Completed at "now" with a canned metric
definition. moto is the optional `demo` extra: it is imported lazily and its absence raises
`DemoUnavailableError`.
"""

from __future__ import annotations

import functools
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.loaders
import botocore.session

DEMO_REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
DEMO_ACCOUNT_ID = "123456789012"  # moto's default account
DEMO_JOBS_PER_REGION = 25
DEMO_RNG_SEED = 20260301
DEMO_NAME_PREFIX = "smi-demo"
DEMO_NOTICE = (
    "DEMO DATA: synthetic training jobs served by an in-process AWS mock (moto), account "
    f"{DEMO_ACCOUNT_ID}, regions {', '.join(DEMO_REGIONS)}. Nothing here comes from your AWS "
    "account."
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


class DemoUnavailableError(RuntimeError):
    """The demo needs moto, which is the optional `demo` extra."""

    def __init__(self) -> None:
        super().__init__("the demo needs moto: pip install 'sagemaker-inventory[demo]'")


@dataclass(frozen=True)
class _Recipe:
    """One team's project: how its training jobs are set up."""

    project: str
    team: str
    cost_center: str
    family: str  # a key of _IMAGES
    instance_type: str
    max_instances: int
    runtime: tuple[int, int]  # seconds, for a job that runs to completion
    max_runtime: int
    spot_share: float
    vpc: bool


# project, team, cost center, family, instance type, max count, runtime range (s), max runtime (s),
# spot share, VPC. The XGBoost rows come first: _draft_job slices them.
_RECIPE_TABLE = """
churn-xgb         growth      cc-1042  xgboost      ml.m5.2xlarge    2   300  2400    7200  0.2  no
fraud-score       risk        cc-2210  xgboost      ml.c5.4xlarge    4   600  3600   14400  0.0  yes
ltv-forecast      finance-ds  cc-3307  xgboost      ml.m5.xlarge     1   200  1200    3600  0.3  yes
resnet-finetune   vision      cc-4120  pytorch      ml.g5.2xlarge    2  1800 21600   86400  0.6  no
recsys-two-tower  recsys      cc-4480  pytorch      ml.p4d.24xlarge  2  3600 28800   86400  0.0  no
bert-intent       nlp         cc-5001  huggingface  ml.g5.4xlarge    1  1200  7200   28800  0.5  no
llama-sft         genai       cc-5090  huggingface  ml.p4d.24xlarge  4  7200 64800  172800  0.5  no
"""
_BASE_MODELS = {"bert-intent": "bert-base-uncased", "llama-sft": "meta-llama/Llama-3.1-8B"}
_XGBOOST_RECIPES = 3
_HETEROGENEOUS_PROJECT = "recsys-two-tower"  # its jobs use ResourceConfig.InstanceGroups


def _parse_recipe(row: str) -> _Recipe:
    project, team, cost, family, instance, count, low, high, longest, spot, vpc = row.split()
    runtime = (int(low), int(high))
    limits = (int(count), runtime, int(longest), float(spot), vpc == "yes")
    return _Recipe(project, team, cost, family, instance, *limits)


_RECIPES = tuple(_parse_recipe(row) for row in _RECIPE_TABLE.strip().splitlines())

_IMAGES = {  # image path and registry account per region (AWS publishes one account per region)
    "xgboost": (
        "sagemaker-xgboost:1.7-1",
        {"us-east-1": "683313688378", "eu-west-1": "141502667606"},
    ),
    "pytorch": ("pytorch-training:2.3.0-gpu-py311-cu121-ubuntu20.04-sagemaker", {}),
    "huggingface": (
        "huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04",
        {},
    ),
}
_DLC_ACCOUNT = "763104351884"  # the deep learning containers' registry in most regions
_RULES_IMAGE = "sagemaker-debugger-rules:latest"
_RULES_ACCOUNTS = {"us-east-1": "503895931360", "eu-west-1": "929884845733"}

_METRICS = {  # name, regex (square brackets on purpose: they are markup to rich), value range
    "xgboost": (
        ("validation:auc", r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+)", 0.78, 0.95),
        ("train:logloss", r".*\[[0-9]+\].*#011train-logloss:([-+]?[0-9]*\.?[0-9]+)", 0.18, 0.45),
    ),
    "pytorch": (
        ("train:loss", r"loss: ([0-9\.]+)", 0.05, 0.6),
        ("val:accuracy", r"val_acc: ([0-9\.]+)", 0.7, 0.97),
    ),
    "huggingface": (
        ("eval_loss", r"'eval_loss': ([0-9\.]+)", 0.2, 1.4),
        ("eval_f1", r"'eval_f1': ([0-9\.]+)", 0.6, 0.93),
    ),
}

_CAPACITY_ERROR = (
    "CapacityError: Unable to provision requested ML compute capacity. "
    "Please retry using a different ML instance type."
)
_FAILURES = {  # per family; each family's first one is what its first failed job gets
    "xgboost": (
        "AlgorithmError: framework error: \nTraceback (most recent call last):\n  File "
        '"/miniconda3/lib/python3.8/site-packages/sagemaker_xgboost_container/algorithm_mode/'
        'train.py", line 226, in train_job\nxgboost.core.XGBoostError: [09:41:12] '
        "../src/data/data.cc:583: Check failed: valid: Label contains NaN, infinity or a value "
        "too large.\nStack trace:\n  [bt] (0) /miniconda3/lib/python3.8/site-packages/xgboost/"
        "lib/libxgboost.so(+0x3b0b29) [0x7f1d2c7b0b29]\n  [bt] (1) /miniconda3/lib/python3.8/"
        "site-packages/xgboost/lib/libxgboost.so(+0x3b1d2e) [0x7f1d2c7b1d2e]",
        "ClientError: Data download failed:Failed to download data. Please check your s3 objects "
        "and ensure that there is no object that is both a folder as well as a file.",
        _CAPACITY_ERROR,
    ),
    "pytorch": (
        "AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "
        '"torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; '
        '22.20 GiB total capacity; 19.87 GiB already allocated)"\nCommand '
        '"/opt/conda/bin/python3.11 train.py --batch-size 256", exit code: 1',
        _CAPACITY_ERROR,
        "InternalServerError: We encountered an internal error.  Please try again.",
    ),
    "huggingface": (
        'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "OSError: You are '
        "trying to access a gated repo. Make sure to have access to it at "
        'https://huggingface.co/meta-llama/Llama-3.1-8B. 401 Client Error."\nCommand '
        '"/opt/conda/bin/python3.10 train.py", exit code: 1',
        _CAPACITY_ERROR,
    ),
}
_OWNERS = ("ana.lima@example.com", "k.tanaka@example.com", "m.okafor@example.com")
_STATUSES = ("Completed", "Failed", "Stopped", "InProgress", "Stopping")
_STATUS_WEIGHTS = (60, 15, 10, 10, 5)
_SECONDARY_STATUSES = {
    "Completed": ("Completed",),
    "Failed": ("Failed",),
    "Stopped": ("Stopped", "Stopped", "MaxRuntimeExceeded"),
    "InProgress": ("Starting", "Training", "Training", "Training"),
    "Stopping": ("Stopping",),
}
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
_TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


@dataclass(frozen=True)
class _JobPlan:
    """Everything random about one job, drawn before anything is created."""

    name: str
    recipe: _Recipe
    status: str
    secondary_status: str
    age: int  # seconds between creation and the anchor
    startup: int  # seconds between creation and training start
    runtime: int  # training seconds until the end, the stop request, or the anchor
    billable: int
    instance_count: int
    spot: bool
    vpc: bool
    tags: tuple[tuple[str, str], ...]
    hyper_parameters: dict[str, str]
    metrics: tuple[tuple[str, float], ...]
    failure_reason: str | None


@contextmanager
def demo_backend(jobs_per_region: int | None = None) -> Iterator[None]:
    """Run the body against moto's in-process AWS, seeded with demo jobs in each of DEMO_REGIONS.

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
        session = demo_session()
        for region in DEMO_REGIONS:
            seed_training_jobs(region, count, session=session)
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
    """Create `count` realistic training jobs in `region` of an active moto mock; return the names.

    Names, statuses and specs depend only on (rng_seed, region, count, name_prefix); times are
    offsets before `anchor` (default: now), so a fixed anchor makes the whole account reproducible.
    Jobs are created oldest first, which is also ListTrainingJobs' default order. `session` (e.g.
    one holding credentials of a role assumed in another moto account) picks the account; the
    default is moto's 123456789012.
    """
    _check_seed_arguments(count, name_prefix)
    _require_active_mock()
    now = _naive_utc(anchor or datetime.now(timezone.utc))
    session = session or demo_session()
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    client = session.client("sagemaker", region_name=region)
    plans = _plan_jobs(region, count, random.Random(f"{rng_seed}:{region}"), name_prefix)
    for plan in plans:
        client.create_training_job(**_create_request(plan, region, account))
        _apply_lifecycle(_backend_job(account, region, plan.name), plan, now)
    return [plan.name for plan in plans]


def demo_session() -> boto3.Session:
    """A new boto3 Session for the active demo; it shares botocore's parsed models between calls.

    Sessions read the environment when made: call this inside demo_backend (or another mock).
    """
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core)


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    # Each new session parses the endpoint and SageMaker models again: ~0.3 s of JSON per session.
    return botocore.loaders.create_loader()


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


def _plan_jobs(region: str, count: int, rng: random.Random, name_prefix: str) -> list[_JobPlan]:
    """Draw every job, then name them in creation order (oldest first)."""
    statuses = list(_STATUSES) if count >= len(_STATUSES) else []
    statuses += rng.choices(_STATUSES, weights=_STATUS_WEIGHTS, k=count - len(statuses))
    rng.shuffle(statuses)
    failures: Counter[str] = Counter()
    drafts = [_draft_job(status, region, rng, failures) for status in statuses]
    drafts.sort(key=lambda draft: -draft.age)
    return [
        replace(draft, name=f"{name_prefix}-{draft.recipe.project}-{index:04d}")
        for index, draft in enumerate(drafts, start=1)
    ]


def _draft_job(status: str, region: str, rng: random.Random, failures: Counter[str]) -> _JobPlan:
    # The first failed job is an XGBoost one so every region shows a "[bt]" backtrace.
    first_failure = status == "Failed" and not failures
    recipe = rng.choice(_RECIPES[:_XGBOOST_RECIPES] if first_failure else _RECIPES)
    secondary = rng.choice(_SECONDARY_STATUSES[status])
    age, startup, runtime = _pick_timing(status, secondary, recipe, rng)
    spot = rng.random() < recipe.spot_share
    failure_reason = None
    if status == "Failed":
        reasons = _FAILURES[recipe.family]
        failure_reason = reasons[failures[recipe.family] % len(reasons)]
        failures[recipe.family] += 1
    return _JobPlan(
        name="",
        recipe=recipe,
        status=status,
        secondary_status=secondary,
        age=age,
        startup=startup,
        runtime=runtime,
        billable=max(1, round(runtime * rng.uniform(0.25, 0.7))) if spot else runtime,
        instance_count=rng.randint(1, recipe.max_instances),
        spot=spot,
        vpc=recipe.vpc or rng.random() < 0.2,
        tags=_pick_tags(recipe, rng),
        hyper_parameters=_pick_hyper_parameters(recipe, region, rng),
        metrics=tuple((m[0], round(rng.uniform(m[2], m[3]), 4)) for m in _METRICS[recipe.family]),
        failure_reason=failure_reason,
    )


def _pick_timing(
    status: str, secondary: str, recipe: _Recipe, rng: random.Random
) -> tuple[int, int, int]:
    """(age, startup, runtime) in seconds; a finished job ends before the anchor."""
    startup = rng.randint(90, 480)
    if secondary == "Starting":
        return rng.randint(30, startup - 1), startup, 0
    if status not in _TERMINAL:
        age = rng.randint(1800, 8 * 3600)
        stop_lag = rng.randint(15, 300) if status == "Stopping" else 0
        return age, startup, age - startup - stop_lag
    if status == "Failed":
        runtime = rng.randint(20, 900)
    elif secondary == "MaxRuntimeExceeded":
        runtime = recipe.max_runtime
    else:
        runtime = rng.randint(*recipe.runtime)
    return startup + runtime + rng.randint(600, 90 * 86400), startup, runtime


def _pick_tags(recipe: _Recipe, rng: random.Random) -> tuple[tuple[str, str], ...]:
    if rng.random() < 0.15:
        return ()  # some jobs are never tagged: bulk tag APIs skip them
    tags = [("team", recipe.team), ("project", recipe.project), ("cost-center", recipe.cost_center)]
    if rng.random() < 0.3:
        tags.append(("owner", rng.choice(_OWNERS)))
    return tuple(tags)


def _pick_hyper_parameters(recipe: _Recipe, region: str, rng: random.Random) -> dict[str, str]:
    if recipe.family == "xgboost":
        # "MaxDepth" is spelled as a user would: map keys must survive the snake_case renaming.
        return {
            "MaxDepth": str(rng.randint(3, 10)),
            "eta": rng.choice(("0.05", "0.1", "0.2")),
            "num_round": rng.choice(("200", "500", "1000")),
            "objective": "binary:logistic",
            "subsample": "0.8",
            "eval_metric": "auc",
        }
    # The SageMaker Python SDK JSON-encodes framework hyperparameters, quotes included.
    code = f"s3://{_bucket(recipe, region)}/code/{recipe.project}/sourcedir.tar.gz"
    common = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"{code}"',
        "sagemaker_region": f'"{region}"',
        "sagemaker_container_log_level": "20",
    }
    if recipe.family == "pytorch":
        return {
            "epochs": rng.choice(("10", "20", "50")),
            "batch-size": rng.choice(("64", "128")),
            "lr": rng.choice(("0.001", "0.0003")),
            **common,
        }
    return {
        "model_name_or_path": f'"{_BASE_MODELS[recipe.project]}"',
        "num_train_epochs": rng.choice(("1", "3")),
        "per_device_train_batch_size": "16",
        "learning_rate": "2e-05",
        **common,
    }


def _bucket(recipe: _Recipe, region: str) -> str:
    return f"smi-demo-{recipe.team}-{region}"


def _create_request(plan: _JobPlan, region: str, account: str) -> dict[str, Any]:
    """The CreateTrainingJob parameters a team would send for this job."""
    recipe, bucket = plan.recipe, f"s3://{_bucket(plan.recipe, region)}"
    request: dict[str, Any] = {
        "TrainingJobName": plan.name,
        "AlgorithmSpecification": {
            "TrainingImage": _image(recipe.family, region),
            "TrainingInputMode": "File",
            "MetricDefinitions": _metric_definitions(recipe.family),
            "EnableSageMakerMetricsTimeSeries": recipe.family != "xgboost",
        },
        "RoleArn": f"arn:aws:iam::{account}:role/sagemaker-{recipe.team}-training",
        "HyperParameters": plan.hyper_parameters,
        "InputDataConfig": [
            _channel(f"{bucket}/data/{recipe.project}", name)
            for name in (("train", "validation") if recipe.family == "xgboost" else ("train",))
        ],
        "OutputDataConfig": {"S3OutputPath": f"{bucket}/models/{recipe.project}"},
        "ResourceConfig": _resource_config(plan, region, account),
        "StoppingCondition": {"MaxRuntimeInSeconds": recipe.max_runtime},
        "EnableManagedSpotTraining": plan.spot,
        "Environment": _environment(recipe),
        "Tags": [{"Key": key, "Value": value} for key, value in plan.tags],
    }
    if plan.spot:
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 2 * recipe.max_runtime
    if plan.spot or recipe.family != "xgboost":
        request["CheckpointConfig"] = {
            "S3Uri": f"{bucket}/checkpoints/{plan.name}",
            "LocalPath": "/opt/ml/checkpoints",
        }
    if plan.vpc:
        request["VpcConfig"] = {
            "SecurityGroupIds": ["sg-0c1a5e3f9b2d47a60"],
            "Subnets": ["subnet-0a1b2c3d4e5f60789", "subnet-0f9e8d7c6b5a40321"],
        }
    if recipe.family == "pytorch":
        request["DebugHookConfig"] = _debug_hook(f"{bucket}/debug/{plan.name}")
        request["DebugRuleConfigurations"] = [_debug_rule(region)]
    return request


def _image(family: str, region: str) -> str:
    path, accounts = _IMAGES[family]
    registry = accounts.get(region, accounts.get("us-east-1", _DLC_ACCOUNT))
    return f"{registry}.dkr.ecr.{region}.amazonaws.com/{path}"


def _metric_definitions(family: str) -> list[dict[str, str]]:
    return [{"Name": name, "Regex": regex} for name, regex, _, _ in _METRICS[family]]


def _channel(prefix: str, name: str) -> dict[str, Any]:
    source = {
        "S3DataType": "S3Prefix",
        "S3Uri": f"{prefix}/{name}/",
        "S3DataDistributionType": "FullyReplicated",
    }
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": source},
        "ContentType": "text/csv",
        "CompressionType": "None",
    }


def _resource_config(plan: _JobPlan, region: str, account: str) -> dict[str, Any]:
    config: dict[str, Any] = {"VolumeSizeInGB": 50 if plan.recipe.family == "xgboost" else 200}
    if plan.recipe.project == _HETEROGENEOUS_PROJECT:
        config["InstanceGroups"] = [
            {
                "InstanceType": plan.recipe.instance_type,
                "InstanceCount": plan.instance_count,
                "InstanceGroupName": "trainers",
            },
            {
                "InstanceType": "ml.c5.9xlarge",
                "InstanceCount": 2,
                "InstanceGroupName": "data-loaders",
            },
        ]
    else:
        config["InstanceType"] = plan.recipe.instance_type
        config["InstanceCount"] = plan.instance_count
    if plan.vpc:
        config["VolumeKmsKeyId"] = (
            f"arn:aws:kms:{region}:{account}:alias/sagemaker-{plan.recipe.team}"
        )
    return config


def _environment(recipe: _Recipe) -> dict[str, str]:
    if recipe.family == "xgboost":
        return {}
    if recipe.family == "pytorch":
        return {"NCCL_DEBUG": "WARN", "PYTHONUNBUFFERED": "1"}
    return {
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_ENABLE_HF_TRANSFER": "1",
        "WANDB_PROJECT": recipe.project,
    }


def _debug_hook(s3_output_path: str) -> dict[str, Any]:
    # smdebug's parameter keys contain dots: map keys to keep verbatim.
    return {
        "S3OutputPath": s3_output_path,
        "LocalPath": "/opt/ml/output/tensors",
        "HookParameters": {"save_interval": "500"},
        "CollectionConfigurations": [
            {"CollectionName": "losses", "CollectionParameters": {"train.save_interval": "50"}},
            {
                "CollectionName": "gradients",
                "CollectionParameters": {"save_interval": "500", "include_regex": ".*conv.*"},
            },
        ],
    }


def _debug_rule(region: str) -> dict[str, Any]:
    registry = _RULES_ACCOUNTS.get(region, _RULES_ACCOUNTS["us-east-1"])
    return {
        "RuleConfigurationName": "LossNotDecreasing",
        "RuleEvaluatorImage": f"{registry}.dkr.ecr.{region}.amazonaws.com/{_RULES_IMAGE}",
        "RuleParameters": {"rule_to_invoke": "LossNotDecreasing", "num_steps": "10"},
    }


def _apply_lifecycle(job: Any, plan: _JobPlan, anchor: datetime) -> None:
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
    finished = plan.status in _TERMINAL
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
    job.algorithm_specification["MetricDefinitions"] = _metric_definitions(plan.recipe.family)
    job.environment = _environment(plan.recipe) or None
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
    plan: _JobPlan, created: datetime, started: datetime | None, last: datetime
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
        elif plan.status in _TERMINAL:
            transition["EndTime"] = start
        transitions.append(transition)
    return transitions
