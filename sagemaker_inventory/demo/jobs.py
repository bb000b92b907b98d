"""The demo's job catalog: what the seeded training jobs are, decided without touching AWS or moto.

Seven team projects (recipes) set each job's framework, instance type, runtime range, spot share and
VPC use; `plan_jobs` draws every random detail of a region's jobs (status, timing, tags,
hyperparameters, metrics, failure reason) from a caller's `random.Random`; `demo.requests` turns
one plan into the CreateTrainingJob parameters a team would send, and `demo.backend` seeds moto
with them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Recipe:
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


def _parse_recipe(row: str) -> Recipe:
    project, team, cost, family, instance, count, low, high, longest, spot, vpc = row.split()
    runtime = (int(low), int(high))
    limits = (int(count), runtime, int(longest), float(spot), vpc == "yes")
    return Recipe(project, team, cost, family, instance, *limits)


_RECIPES = tuple(_parse_recipe(row) for row in _RECIPE_TABLE.strip().splitlines())

METRICS = {  # name, regex (square brackets on purpose: they are markup to rich), value range
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

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
DEMO_DAY = 86400  # the demo's jobs are dated from the start of the current UTC day, all day long
RUNNING_FRACTION = 0.75  # the most of its limit a running job reaches by the day's end
LONG_RUN_MAX_RUNTIME = 8 * DEMO_DAY
LONG_RUN_FRACTIONS = (0.81, 0.85)  # of LONG_RUN_MAX_RUNTIME, at the start of the day
# Every seeded job carries this tag, so its records say they are demo data wherever they end up
# (a file, a report, `-q` output); the record lists it as "smi:demo:synthetic".
DEMO_TAG = ("smi:demo", "synthetic")
DEMO_MARK = f"{DEMO_TAG[0]}:{DEMO_TAG[1]}"


def mark_demo_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record with DEMO_MARK among its tags: a demo run with --no-tags (tags: []) still says
    its records are demo data."""
    tags = record.get("tags")
    tags = list(tags) if isinstance(tags, list) else []
    if DEMO_MARK not in tags:
        record["tags"] = [*tags, DEMO_MARK]
    return record


@dataclass(frozen=True)
class JobPlan:
    """Everything random about one job, drawn before anything is created."""

    name: str
    recipe: Recipe
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
    max_runtime: int = 0  # StoppingCondition.MaxRuntimeInSeconds; 0: the recipe's


def plan_jobs(region: str, count: int, rng: random.Random, name_prefix: str) -> list[JobPlan]:
    """Draw every job, then name them in creation order (oldest first)."""
    statuses = list(_STATUSES) if count >= len(_STATUSES) else []
    statuses += rng.choices(_STATUSES, weights=_STATUS_WEIGHTS, k=count - len(statuses))
    rng.shuffle(statuses)
    failures: Counter[str] = Counter()
    drafts = [_draft_job(status, region, rng, failures) for status in statuses]
    drafts = [_keep_running_within_limit(draft) for draft in drafts]
    long_runs = [
        i
        for i, d in enumerate(drafts)
        if _measured_while_running(d) and d.recipe.family != "xgboost"
    ][:1]
    for index in long_runs:
        drafts[index] = _long_run(drafts[index], rng)
    drafts.sort(key=lambda draft: -draft.age)
    return [
        replace(draft, name=f"{name_prefix}-{draft.recipe.project}-{index:04d}")
        for index, draft in enumerate(drafts, start=1)
    ]


def _draft_job(status: str, region: str, rng: random.Random, failures: Counter[str]) -> JobPlan:
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
    return JobPlan(
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
        metrics=tuple((m[0], round(rng.uniform(m[2], m[3]), 4)) for m in METRICS[recipe.family]),
        failure_reason=failure_reason,
    )


def _measured_while_running(plan: JobPlan) -> bool:
    """An InProgress job past its start: `smi report --running` measures it against its limit."""
    return plan.status == "InProgress" and plan.secondary_status != "Starting"


def _keep_running_within_limit(plan: JobPlan) -> JobPlan:
    """A running job's limit, raised (to whole hours) where needed so that it stays under
    RUNNING_FRACTION of it for the whole demo day: measured at any moment of the day its jobs are
    dated from, no running job is past its maximum runtime, nor near it."""
    limit = plan.max_runtime or plan.recipe.max_runtime
    # A stopping job trains no more; a running one for the rest of the day at most.
    reach = plan.runtime + (DEMO_DAY if _measured_while_running(plan) else 0)
    if plan.status not in TERMINAL_STATUSES and reach > RUNNING_FRACTION * limit:
        limit = -(-int(reach / RUNNING_FRACTION) // 3600) * 3600
    return replace(plan, max_runtime=limit)


def _long_run(plan: JobPlan, rng: random.Random) -> JobPlan:
    """A region's first running deep-learning job becomes a week-long run near its limit all day
    (from LONG_RUN_FRACTIONS of it at the day's start, and under it at the day's end: a day is
    an eighth of the limit), so that --running
    always has a near-limit job to show."""
    low, high = LONG_RUN_FRACTIONS
    runtime = rng.randint(int(low * LONG_RUN_MAX_RUNTIME), int(high * LONG_RUN_MAX_RUNTIME))
    return replace(
        plan,
        age=plan.startup + runtime,
        runtime=runtime,
        billable=runtime,
        max_runtime=LONG_RUN_MAX_RUNTIME,
    )


def _pick_timing(
    status: str, secondary: str, recipe: Recipe, rng: random.Random
) -> tuple[int, int, int]:
    """(age, startup, runtime) in seconds; a finished job ends before the anchor."""
    startup = rng.randint(90, 480)
    if secondary == "Starting":
        return rng.randint(30, startup - 1), startup, 0
    if status not in TERMINAL_STATUSES:
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


def _pick_tags(recipe: Recipe, rng: random.Random) -> tuple[tuple[str, str], ...]:
    if rng.random() < 0.15:
        return ()  # some jobs carry no team tags, only DEMO_TAG
    tags = [("team", recipe.team), ("project", recipe.project), ("cost-center", recipe.cost_center)]
    if rng.random() < 0.3:
        tags.append(("owner", rng.choice(_OWNERS)))
    return tuple(tags)


def _pick_hyper_parameters(recipe: Recipe, region: str, rng: random.Random) -> dict[str, str]:
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
    code = f"s3://{bucket_name(recipe, region)}/code/{recipe.project}/sourcedir.tar.gz"
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


def bucket_name(recipe: Recipe, region: str) -> str:
    """The S3 bucket a team keeps a project's data, code and models in."""
    return f"smi-demo-{recipe.team}-{region}"
