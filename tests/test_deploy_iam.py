"""The IAM policies under deploy/iam (issue 22): valid policy documents whose every action is an
operation of botocore's service model (or one of a few IAM-only actions, listed), no wildcard
action, and least privilege both ways: every AWS operation smi's aws/ package calls is granted by
the policy of the identity that calls it, and the collector and member-account roles grant nothing
smi does not call. The roles, buckets, keys and tasks they name are the ones the manifests use."""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from functools import cache

import botocore.session
import pytest
from botocore import xform_name
from deploy_files import (
    PLACEHOLDERS,
    ROOT,
    actions,
    as_list,
    json_document,
    kubernetes_documents,
    option_values,
    policies,
    smi_runs,
    statements,
)

# The IAM prefix of each service a policy names, and botocore's name for it.
SERVICES = {
    "sagemaker": "sagemaker",
    "sts": "sts",
    "organizations": "organizations",
    "tag": "resourcegroupstaggingapi",
    "pricing": "pricing",
    "s3": "s3",
    "kms": "kms",
    "ecs": "ecs",
    "iam": "iam",
}
PREFIXES = {service: prefix for prefix, service in SERVICES.items()}
# IAM actions with no API operation of the same name.
IAM_ONLY = {
    "s3:ListBucket",  # authorizes ListObjectsV2 (and ListObjects, HeadBucket)
    "s3:ListBucketMultipartUploads",  # authorizes ListMultipartUploads
    "iam:PassRole",  # checked when a service is handed a role (here: ECS RunTask's task roles)
}
# Operations whose IAM action has another name (S3's; every other is the operation's name).
ACTIONS_OF = {
    ("s3", "ListObjectsV2"): {"s3:ListBucket"},
    ("s3", "HeadBucket"): {"s3:ListBucket"},
    ("s3", "HeadObject"): {"s3:GetObject"},
    ("s3", "ListMultipartUploads"): {"s3:ListBucketMultipartUploads"},
    ("s3", "CreateMultipartUpload"): {"s3:PutObject"},
    ("s3", "UploadPart"): {"s3:PutObject"},
    ("s3", "CompleteMultipartUpload"): {"s3:PutObject"},
    ("s3", "CopyObject"): {"s3:GetObject", "s3:PutObject"},
}
# The S3 calls of the S3 state store and S3 inputs (issue 22 bullet 1): reading objects and
# prefixes, conditional writes (the lock, the commit journal), multipart uploads completed at
# commit, and finding and aborting the uploads a killed run left. The state policy grants these
# only; a call not listed fails test_the_state_policy_grants_the_s3_state_calls_and_their_key_only.
S3_STATE_OPERATIONS = {
    "GetObject",
    "HeadObject",
    "PutObject",
    "DeleteObject",
    "ListObjectsV2",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListMultipartUploads",
}
# Which policies must grant a service's calls: the collector calls in its own account what the
# member-account role calls in every other; S3 state and prices are separate policies.
GRANTED_BY = {
    "sagemaker": ("collector-policy", "member-role-policy"),
    "resourcegroupstaggingapi": ("collector-policy", "member-role-policy"),
    "sts": ("collector-policy",),
    "organizations": ("collector-policy",),
    "pricing": ("report-cost-policy",),
    "s3": ("state-bucket-policy",),
}
# Calls smi makes without naming them: botocore's AssumeRoleCredentialFetcher sends AssumeRole.
IMPLICIT_CALLS = {("sts", "AssumeRole")}
TRUST_POLICIES = {"member-role-trust", "collector-trust-eks", "collector-trust-ecs"}
TRUST_POLICIES |= {"scheduler-trust"}
ACCOUNT = PLACEHOLDERS["ACCOUNT_ID"]
COLLECTOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/smi-collector"


@cache
def operations(service: str) -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


def iam_actions(service: str, operation: str) -> set[str]:
    return ACTIONS_OF.get((service, operation), {f"{PREFIXES[service]}:{operation}"})


POLICIES = policies()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_policy_is_a_policy_document(name: str) -> None:
    policy = POLICIES[name]
    assert policy["Version"] == "2012-10-17"
    for statement in statements(policy):
        assert statement["Effect"] == "Allow" and statement["Sid"], name
        assert "NotAction" not in statement and "NotResource" not in statement, name
        if name in TRUST_POLICIES:
            assert statement["Principal"] and "Resource" not in statement, name
        else:
            assert statement["Resource"] and "Principal" not in statement, name


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_action_exists_in_botocore(name: str) -> None:
    for action in actions(POLICIES[name]):
        assert "*" not in action, f"{name}: wildcard action {action}"
        prefix, _, operation = action.partition(":")
        assert prefix in SERVICES, f"{name}: {action}: add the service to SERVICES"
        if action not in IAM_ONLY:
            assert operation in operations(SERVICES[prefix]), f"{name}: no operation {action}"


def test_the_iam_only_actions_are_truly_no_operation() -> None:
    for action in IAM_ONLY:
        prefix, _, operation = action.partition(":")
        assert operation not in operations(SERVICES[prefix]), f"{action} is an operation"


def smis_calls() -> set[tuple[str, str]]:
    """(botocore service, operation) of every call in sagemaker_inventory/aws/ (the only package
    that talks to AWS): operation names as strings (paginators, checked answers) and client
    methods (`client.describe_training_job(...)`)."""
    by_name: dict[str, set[tuple[str, str]]] = {}
    for service in PREFIXES:
        for operation in operations(service):
            by_name.setdefault(operation, set()).add((service, operation))
            by_name.setdefault(xform_name(operation), set()).add((service, operation))
    found = set(IMPLICIT_CALLS)
    for path in sorted((ROOT / "sagemaker_inventory" / "aws").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found |= by_name.get(node.value, set())
            elif isinstance(node, ast.Attribute) and "_" in node.attr:  # not re's .search
                found |= by_name.get(node.attr, set())
    return found


def test_smis_calls_are_found() -> None:
    """The scan finds what smi is known to call (so an empty scan cannot pass the next test)."""
    assert {
        ("sagemaker", "ListTrainingJobs"),
        ("sagemaker", "DescribeTrainingJob"),
        ("sagemaker", "ListTags"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("organizations", "ListAccounts"),
        ("sts", "GetCallerIdentity"),
        ("pricing", "GetProducts"),
    } <= smis_calls()


@pytest.mark.parametrize(("service", "operation"), sorted(smis_calls()))
def test_every_call_smi_makes_is_granted(service: str, operation: str) -> None:
    assert service in GRANTED_BY, f"smi calls {service}:{operation}: which policy grants it?"
    for name in GRANTED_BY[service]:
        missing = iam_actions(service, operation) - actions(POLICIES[name])
        assert not missing, f"{name} lacks {missing} for {service} {operation}"


@pytest.mark.parametrize("name", ["collector-policy", "member-role-policy", "report-cost-policy"])
def test_the_reading_roles_grant_nothing_smi_does_not_call(name: str) -> None:
    needed = {a for s, o in smis_calls() if s != "s3" for a in iam_actions(s, o)}
    assert actions(POLICIES[name]) - needed == set(), name


def test_the_state_policy_grants_the_s3_state_calls_and_their_key_only() -> None:
    assert {o for s, o in smis_calls() if s == "s3"} <= S3_STATE_OPERATIONS, "a new S3 call"
    s3 = {a for o in S3_STATE_OPERATIONS for a in iam_actions("s3", o)}
    granted = actions(POLICIES["state-bucket-policy"])
    assert {a for a in granted if a.startswith("s3:")} == s3
    assert {a for a in granted if a.startswith("kms:")} == {"kms:GenerateDataKey", "kms:Decrypt"}


def resources(name: str, action: str) -> list[str]:
    return [
        r
        for s in statements(POLICIES[name])
        if action in as_list(s["Action"])
        for r in as_list(s["Resource"])
    ]


def test_the_collector_assumes_exactly_the_role_the_schedules_name() -> None:
    (pattern,) = resources("collector-policy", "sts:AssumeRole")
    for run in smi_runs():
        for role in option_values(run.args, "--role-name"):
            assert fnmatchcase(f"arn:aws:iam::444455556666:role/{role}", pattern), run.where
    (trust,) = statements(POLICIES["member-role-trust"])
    assert trust["Principal"] == {"AWS": COLLECTOR_ROLE}
    assert trust["Action"] == "sts:AssumeRole"


def s3_urls() -> list[tuple[str, str]]:
    return [
        (run.where, url)
        for run in smi_runs()
        for option in ("--snapshot", "--changes", "--report", "-o", "--output")
        for url in option_values(run.args, option)
    ]


def test_the_state_policy_covers_every_object_the_schedules_write() -> None:
    objects = resources("state-bucket-policy", "s3:PutObject")
    urls = s3_urls()
    assert urls
    for where, url in urls:
        arn = "arn:aws:s3:::" + url.removeprefix("s3://")
        # The lock and sidecar objects are the key plus a suffix: the same pattern covers them.
        assert any(fnmatchcase(arn + ".lock", p) for p in objects), f"{where}: {url}"
        prefix = url.removeprefix(f"s3://{PLACEHOLDERS['BUCKET']}/").rpartition("/")[0] + "/"
        assert listing_allowed(prefix), f"{where}: cannot list {prefix} (smi report PREFIX/)"


def listing_allowed(prefix: str) -> bool:
    for statement in statements(POLICIES["state-bucket-policy"]):
        like = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
        if "s3:ListBucket" in as_list(statement["Action"]) and like:
            return any(fnmatchcase(prefix, p) for p in as_list(like))
    return False


def test_the_state_key_is_the_one_the_schedules_encrypt_with() -> None:
    (key,) = resources("state-bucket-policy", "kms:GenerateDataKey")
    for run in smi_runs():
        assert option_values(run.args, "--sse-kms-key-id") == [key], run.where


def test_the_schedulers_role_runs_the_task_and_passes_only_its_roles() -> None:
    schedule = json_document(ROOT / "deploy" / "ecs" / "schedule.json")
    task = json_document(ROOT / "deploy" / "ecs" / "task-definition.json")
    run_task = resources("scheduler-policy", "ecs:RunTask")
    assert any(
        fnmatchcase(schedule["Target"]["EcsParameters"]["TaskDefinitionArn"], r) for r in run_task
    )
    assert any(
        fnmatchcase(schedule["Target"]["EcsParameters"]["TaskDefinitionArn"] + ":7", r)
        for r in run_task
    )
    assert sorted(resources("scheduler-policy", "iam:PassRole")) == sorted(
        [task["taskRoleArn"], task["executionRoleArn"]]
    )
    assert schedule["Target"]["RoleArn"].endswith(":role/smi-scheduler")


def test_the_collectors_trust_names_the_pods_and_tasks_that_run_smi() -> None:
    (eks,) = statements(POLICIES["collector-trust-eks"])
    accounts = [d for _, d in kubernetes_documents() if d["kind"] == "ServiceAccount"]
    subjects = {
        f"system:serviceaccount:{a['metadata']['namespace']}:{a['metadata']['name']}"
        for a in accounts
    }
    assert set(eks["Condition"]["StringEquals"].values()) == subjects | {"sts.amazonaws.com"}
    (ecs,) = statements(POLICIES["collector-trust-ecs"])
    assert ecs["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
