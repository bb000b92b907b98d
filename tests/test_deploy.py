"""The schedules under deploy/ (issue 22): every manifest parses and has what matters (a schedule,
one run at a time, a read-only root file system, a non-root user, /tmp writable; the Indexed Job's
shard count everywhere the same, one S3 key per shard), the ECS task and its schedule are valid
inputs of the APIs that take them, the placeholders are the documented ones, and every smi
command line they run is accepted by smi's own click commands (IAM: tests/test_deploy_iam.py)."""

from __future__ import annotations

import posixpath
import re
from typing import Any

import botocore.session
import click
import pytest
from botocore.validate import ParamValidator
from deploy_files import (
    DEPLOY,
    KUBE_VARIABLE,
    PLACEHOLDER,
    PLACEHOLDERS,
    ROOT,
    SmiRun,
    deploy_files,
    environment,
    job_spec,
    jobs,
    json_document,
    kubernetes_documents,
    option_values,
    smi_runs,
)
from markdown_text import link_targets

from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect.sharding import Shard

README = (DEPLOY / "README.md").read_text()
CRON = re.compile(r"^(\S+ ){4}\S+$")
# The S3 options of issue 22 (bullet 1) the manifests rely on.
S3_OPTIONS = ("--snapshot", "--changes", "--report")
KMS_OPTION = "--sse-kms-key-id"


def test_the_deploy_directory_holds_each_schedule() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in DEPLOY.rglob("*") if p.is_file()}
    assert {
        "README.md",
        "kubernetes/serviceaccount.yaml",
        "kubernetes/cronjob.yaml",
        "kubernetes/indexed-cronjob.yaml",
        "ecs/task-definition.json",
        "ecs/schedule.json",
        "iam/collector-policy.json",
        "iam/member-role-policy.json",
        "iam/member-role-trust.json",
        "iam/state-bucket-policy.json",
    } <= names


def test_every_placeholder_is_known_documented_and_used() -> None:
    used = {m for p in deploy_files(".yaml", ".json") for m in PLACEHOLDER.findall(p.read_text())}
    assert used == set(PLACEHOLDERS), "tests/deploy_files.py's PLACEHOLDERS: one per placeholder"
    for name in used:
        assert f"`${{{name}}}`" in README, f"deploy/README.md does not explain ${{{name}}}"


@pytest.mark.parametrize("path", deploy_files(".json"), ids=lambda p: p.name)
def test_every_json_file_parses(path: Any) -> None:
    assert isinstance(json_document(path), dict)


def test_every_kubernetes_document_names_its_kind() -> None:
    documents = kubernetes_documents()
    assert len(documents) >= 4
    for path, document in documents:
        assert document.get("apiVersion") and document.get("kind"), path.name
        assert document["metadata"]["name"], path.name


def first(value: Any) -> str:
    """A test id: the file name of (name, document) pairs."""
    return value if isinstance(value, str) else ""


def cronjobs() -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, d) for p, d in jobs() if d["kind"] == "CronJob"]


@pytest.mark.parametrize(("name", "document"), cronjobs(), ids=first)
def test_a_cronjob_runs_once_at_a_time_on_a_schedule(name: str, document: dict[str, Any]) -> None:
    spec = document["spec"]
    assert CRON.match(spec["schedule"]), name
    assert spec["concurrencyPolicy"] == "Forbid", name
    assert job_spec(document)["template"]["spec"]["restartPolicy"] == "Never", name


def pods() -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, job_spec(d)["template"]["spec"]) for p, d in jobs()]


@pytest.mark.parametrize(("name", "pod"), pods(), ids=first)
def test_a_pod_is_non_root_with_a_read_only_root_and_a_writable_tmp(
    name: str, pod: dict[str, Any]
) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True, name
    assert pod["securityContext"]["runAsUser"] > 0, name
    scratch = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts.get("/tmp") in scratch, f"{name}: /tmp is no emptyDir"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), name


@pytest.mark.parametrize(("name", "pod"), pods(), ids=first)
def test_a_pod_runs_as_the_irsa_service_account(name: str, pod: dict[str, Any]) -> None:
    accounts = {
        d["metadata"]["name"]: d for _, d in kubernetes_documents() if d["kind"] == "ServiceAccount"
    }
    account = accounts[pod["serviceAccountName"]]
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role == f"arn:aws:iam::{PLACEHOLDERS['ACCOUNT_ID']}:role/smi-collector", name


def indexed_jobs() -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, job_spec(d)) for p, d in jobs() if job_spec(d).get("completionMode")]


def test_there_is_an_indexed_job() -> None:
    assert [name for name, _ in indexed_jobs()] == ["indexed-cronjob.yaml"]


@pytest.mark.parametrize(("name", "spec"), indexed_jobs(), ids=first)
def test_the_indexed_job_runs_one_shard_per_completion(name: str, spec: dict[str, Any]) -> None:
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] >= 2
    for container in spec["template"]["spec"]["containers"]:
        env = environment(container)
        assert env["SMI_SHARDS"] == str(spec["completions"]), "SMI_SHARDS = completions"
        index = env["JOB_COMPLETION_INDEX"]["fieldRef"]["fieldPath"]
        assert index == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
        assert option_values(container["args"], "--shard") == ["auto"]


def kubernetes_runs() -> list[SmiRun]:
    return [run for run in smi_runs() if run.where.endswith(".yaml")]


@pytest.mark.parametrize("run", kubernetes_runs(), ids=lambda r: r.where)
def test_every_kubernetes_variable_in_args_is_in_the_env(run: SmiRun) -> None:
    for arg in run.args:
        for name in KUBE_VARIABLE.findall(arg):
            assert name in run.env, f"{run.where}: $({name}) is not in the container's env"


def expanded(run: SmiRun, index: int) -> list[str]:
    """The arguments as Kubernetes hands them to pod `index` (literal env values expanded)."""
    values = {k: v for k, v in run.env.items() if isinstance(v, str)}
    values["JOB_COMPLETION_INDEX"] = str(index)
    return [KUBE_VARIABLE.sub(lambda m: values[m.group(1)], arg) for arg in run.args]


def pod_commands() -> list[tuple[str, list[str], dict[str, str]]]:
    """(where, args, environment) of every pod a schedule starts: one per shard index."""
    found = []
    for run in smi_runs():
        shards = int(run.env.get("SMI_SHARDS", 1))
        for index in range(shards):
            env = {k: v for k, v in run.env.items() if isinstance(v, str)}
            if "SMI_SHARDS" in run.env:
                env["JOB_COMPLETION_INDEX"] = str(index)
            found.append((f"{run.where}[{index}]", expanded(run, index), env))
    return found


@pytest.mark.parametrize(
    ("where", "args", "env"), pod_commands(), ids=[w for w, _, _ in pod_commands()]
)
def test_every_command_line_is_a_valid_smi_command(
    where: str, args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsed by smi's own commands (option parsing and every type's conversion; nothing runs),
    in the pod's environment (`--shard auto` reads it)."""
    for name in ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SMI_SHARDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    context = click.Context(cli, info_name="smi")
    command = cli.get_command(context, args[0])
    assert command is not None, f"{where}: smi has no command {args[0]!r}"
    try:
        parsed = command.make_context(args[0], list(args[1:]), parent=context)
    except click.ClickException as exc:
        pytest.fail(f"{where}: smi {' '.join(args)}: {exc.format_message()}")
    for option in S3_OPTIONS:  # an S3 location, not a local path named "s3:"
        assert str(parsed.params[option.lstrip("-")]).startswith("s3://"), f"{where}: {option}"
    if "SMI_SHARDS" in env:
        shard = Shard(int(env["JOB_COMPLETION_INDEX"]), int(env["SMI_SHARDS"]))
        assert parsed.params["shard"] == shard, where


@pytest.mark.parametrize("run", list(smi_runs()), ids=lambda r: r.where)
def test_every_schedule_keeps_its_state_and_report_in_s3(run: SmiRun) -> None:
    assert run.args[0] == "collect"
    for option in (*S3_OPTIONS, KMS_OPTION):
        assert len(option_values(run.args, option)) == 1, f"{run.where}: {option}"
    for option in S3_OPTIONS:
        assert option_values(run.args, option)[0].startswith("s3://"), f"{run.where}: {option}"
    assert option_values(run.args, KMS_OPTION) == [PLACEHOLDERS["KMS_KEY_ARN"]]


@pytest.mark.parametrize("run", list(smi_runs()), ids=lambda r: r.where)
def test_nothing_but_inventories_lies_under_an_inventory_prefix(run: SmiRun) -> None:
    """`smi report s3://BUCKET/PREFIX/` reads every *.jsonl and *.json under the snapshot's
    prefix: a changes file or a run report there would be read as an inventory."""
    (snapshot,) = option_values(run.args, "--snapshot")
    prefix = posixpath.dirname(snapshot) + "/"
    for option in ("--changes", "--report"):
        (url,) = option_values(run.args, option)
        assert not url.startswith(prefix), f"{run.where}: {option} {url} is under {prefix}"


def test_no_two_runs_or_shards_share_an_s3_object() -> None:
    owners: dict[str, str] = {}
    for where, args, _ in pod_commands():
        if where.startswith("task-definition.json"):
            continue  # the Fargate task is the Kubernetes nightly run elsewhere: same keys
        for option in S3_OPTIONS:
            for url in option_values(args, option):
                assert url not in owners, f"{where} and {owners.get(url)} both write {url}"
                owners[url] = where


def cpu_limits() -> list[tuple[str, list[str], float]]:
    """(where, args, CPUs it may use) of every container a schedule runs."""
    found = []
    for path, document in jobs():
        for container in job_spec(document)["template"]["spec"]["containers"]:
            cpu = str(container["resources"]["limits"]["cpu"])
            cores = int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
            found.append((path.name, list(container["args"]), cores))
    task = json_document(DEPLOY / "ecs" / "task-definition.json")
    for container in task["containerDefinitions"]:
        found.append(("task-definition.json", container["command"], int(task["cpu"]) / 1024))
    return found


@pytest.mark.parametrize(("where", "args", "cores"), cpu_limits(), ids=first)
def test_the_processes_match_the_cpu_limit(where: str, args: list[str], cores: float) -> None:
    """`--processes auto` counts the cores the process may run on (the node's, in a pod), not
    its CPU limit: a schedule names the number, that of its limit."""
    assert option_values(args, "--processes") == [str(max(1, int(cores)))], where


def test_the_fargate_task_is_a_valid_task_definition() -> None:
    task = json_document(DEPLOY / "ecs" / "task-definition.json")
    assert_valid_input("ecs", "RegisterTaskDefinition", task)
    assert task["requiresCompatibilities"] == ["FARGATE"]
    (container,) = task["containerDefinitions"]
    assert container["readonlyRootFilesystem"] is True
    uid, _, gid = container["user"].partition(":")
    assert f"USER {uid}:{gid}" in (ROOT / "Dockerfile").read_text()
    volumes = {v["name"] for v in task["volumes"]}
    mounts = {m["containerPath"]: m for m in container["mountPoints"]}
    assert mounts["/tmp"]["sourceVolume"] in volumes and mounts["/tmp"]["readOnly"] is False
    assert task["taskRoleArn"].endswith(":role/smi-collector")


def test_the_schedule_runs_that_task_on_fargate() -> None:
    schedule = json_document(DEPLOY / "ecs" / "schedule.json")
    assert_valid_input("scheduler", "CreateSchedule", schedule)
    task = json_document(DEPLOY / "ecs" / "task-definition.json")
    ecs = schedule["Target"]["EcsParameters"]
    assert ecs["TaskDefinitionArn"].endswith(f":task-definition/{task['family']}")
    assert ecs["LaunchType"] == "FARGATE" and ecs["TaskCount"] == 1
    assert schedule["ScheduleExpression"].startswith("cron(")


def assert_valid_input(service: str, operation: str, params: dict[str, Any]) -> None:
    """`params` as botocore would send them (the AWS CLI's --cli-input-json takes them so)."""
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def test_the_readme_explains_every_file_and_links_only_inside_the_repository() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.relative_to(DEPLOY).as_posix() in README, f"{path.name} not explained"
    for target in link_targets(README):
        path = target.partition("#")[0]
        assert not re.match(r"[a-z]+:", target), f"deploy/README.md links outside: {target}"
        resolved = (DEPLOY / path).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), target
