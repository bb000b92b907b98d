"""Reading deploy/ as the tests check it: its files with the `${NAME}` placeholders filled in, the
Kubernetes documents and their containers, the ECS task, the IAM policies, and the smi command
line each of them runs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Kubernetes' own expansion in command and args, from the container's env: $(NAME).
KUBE_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
# Example values, shaped as the real ones are (an ARN parses as an ARN, a bucket as a bucket).
PLACEHOLDERS = {
    "ACCOUNT_ID": "111122223333",
    "REGION": "eu-west-1",
    "BUCKET": "example-smi-state",
    "KMS_KEY_ARN": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "IMAGE": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/smi:0.1.0",
    "OIDC_PROVIDER": "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
    "SUBNET_ID": "subnet-0123456789abcdef0",
    "SECURITY_GROUP_ID": "sg-0123456789abcdef0",
}


def deploy_files(*suffixes: str) -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix in suffixes)


def filled(path: Path) -> str:
    """The file's text with every placeholder replaced by its example value (KeyError: unknown)."""
    return PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m.group(1)], path.read_text())


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(filled(path)) if doc is not None]


def json_document(path: Path) -> Any:
    return json.loads(filled(path))


def kubernetes_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, d) for p in deploy_files(".yaml", ".yml") for d in yaml_documents(p)]


def job_spec(document: dict[str, Any]) -> dict[str, Any]:
    """The Job spec of a Job or of a CronJob's jobTemplate."""
    if document["kind"] == "CronJob":
        return dict(document["spec"]["jobTemplate"]["spec"])
    return dict(document["spec"])


def jobs() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, d) for p, d in kubernetes_documents() if d["kind"] in {"Job", "CronJob"}]


def environment(container: dict[str, Any]) -> dict[str, Any]:
    """The container's env, name to its literal value (or its valueFrom mapping)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@dataclass(frozen=True)
class SmiRun:
    """One smi command line a manifest runs: where, its arguments as written, its environment."""

    where: str
    args: list[str]
    env: dict[str, Any]


def smi_runs() -> Iterator[SmiRun]:
    """Every command line the manifests give the image (whose ENTRYPOINT is smi): a Kubernetes
    container's args (no `command`: the entrypoint stays), the ECS container's command."""
    for path, document in jobs():
        for container in job_spec(document)["template"]["spec"]["containers"]:
            assert "command" not in container, f"{path.name}: command replaces the entrypoint"
            yield SmiRun(path.name, list(container["args"]), environment(container))
    for path in deploy_files(".json"):
        document = json_document(path)
        for container in document.get("containerDefinitions", []):
            assert "entryPoint" not in container, f"{path.name}: entryPoint replaces smi"
            env = {e["name"]: e["value"] for e in container.get("environment", [])}
            yield SmiRun(path.name, list(container["command"]), env)


def option_values(args: list[str], option: str) -> list[str]:
    """The values given to `option` (`--opt VALUE` or `--opt=VALUE`)."""
    found = []
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith(f"{option}="):
            found.append(arg.partition("=")[2])
    return found


def policies() -> dict[str, dict[str, Any]]:
    """deploy/iam/*.json by file stem."""
    return {p.stem: json_document(p) for p in sorted((DEPLOY / "iam").glob("*.json"))}


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    found = policy["Statement"]
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def actions(policy: dict[str, Any]) -> set[str]:
    return {a for s in statements(policy) for a in as_list(s.get("Action", []))}
