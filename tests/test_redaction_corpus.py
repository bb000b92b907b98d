"""Issue 20: redaction measured on real public material, both ways.

tests/data/redaction/innocent.jsonl holds key/value pairs and command lines from public SageMaker
material (amazon-sagemaker-examples, sagemaker-python-sdk tests and JumpStart specs,
huggingface/notebooks, sagemaker-training-toolkit tests, the built-in algorithms' hyperparameter
tables of the SageMaker developer guide), each with its source. Pairs whose key names a secret
outright are left out of it unless their value cannot be one (an empty value, a placeholder): the
policy hides those by name. tests/data/redaction/secrets.jsonl holds the public test fixtures of
secret scanners (gitleaks' rule tests, detect-secrets' plugin tests and test data, trufflehog's
detector tests), placed as a job would carry them: environment variables, hyperparameters,
debugger and profiler parameters, container arguments and entrypoints; `secret` is the part that
must not survive. Each entry is served as one job's record and redacted with the default rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sagemaker_inventory.records.redaction import RedactionRules, redact

DATA = Path(__file__).parent / "data" / "redaction"
MAX_INNOCENT_ALTERED = 0.01
MIN_SECRETS_REMOVED = 0.98
# Lists of structures on the way to a map or command line (the rest are single structures).
LISTS = frozenset({"debug_rule_configurations", "collection_configurations"})


def entries(name: str) -> Iterator[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def record_of(entry: dict[str, Any]) -> dict[str, Any]:
    """A record holding only the entry, at its field path."""
    *parents, leaf = entry["field"].split(".")
    value: Any = {entry["key"]: entry["value"]} if "key" in entry else list(entry["value"])
    node: Any = {leaf: value}
    for parent in reversed(parents):
        node = {parent: [node] if parent in LISTS else node}
    return node


def served(entry: dict[str, Any], rules: RedactionRules) -> Any:
    """The entry's value (or command line) as redaction writes it."""
    node: Any = redact(record_of(entry), rules)
    for part in entry["field"].split("."):
        node = node[part][0] if part in LISTS else node[part]
    return node[entry["key"]] if "key" in entry else node


def describe(entry: dict[str, Any], out: Any) -> str:
    key = entry.get("key", "")
    return f"{entry['field']} {key!r}: {entry['value']!r} -> {out!r} ({entry['source']})"


def test_innocent_values_stay_as_they_are() -> None:
    rules = RedactionRules()
    corpus = list(entries("innocent.jsonl"))
    altered = []
    for entry in corpus:
        out = served(entry, rules)
        if out != entry["value"]:
            altered.append(describe(entry, out))
    assert len(corpus) >= 400
    assert len(altered) <= MAX_INNOCENT_ALTERED * len(corpus), "\n".join(altered)


def test_secrets_are_removed() -> None:
    rules = RedactionRules()
    corpus = list(entries("secrets.jsonl"))
    survived = []
    for entry in corpus:
        out = served(entry, rules)
        if entry["secret"] in json.dumps(out, ensure_ascii=False).replace("\\\\", "\\"):
            survived.append(describe(entry, out))
    assert len(corpus) >= 150
    assert len(survived) <= (1 - MIN_SECRETS_REMOVED) * len(corpus), "\n".join(survived)
