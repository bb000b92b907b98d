"""The fast record path equals a straightforward reference, over responses from
tests/model_responses.py at several densities: redaction's compiled tree against the walk it
replaced, and the one configured JSON encoder against json.dumps."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

import pytest
from model_responses import response_for_shape

from sagemaker_inventory.records.record import record_json
from sagemaker_inventory.records.redaction import (
    REDACTED,
    RedactionRules,
    _map_tree,
    _Tree,
    redact,
)
from sagemaker_inventory.records.secret_values import redact_arguments, redact_value
from sagemaker_inventory.records.shape import describe_output_shape, to_record

DENSITIES = [1.0, 0.5, 0.1]
SEEDS = range(6)
# Map contents and command lines with secrets of every kind the rules know (keys, URLs, flags,
# JSON, token formats), and values of other types a hand-made record could hold.
SECRET_MAPS: list[dict[str, Any]] = [
    {"db_password": "hunter2", "MaxDepth": "6"},
    {"DATABASE_URL": "postgresql://admin:pw@db/ml", "url": "https://u:p@host/x", "n": 3},
    {"config": '{"api_key": "k", "depth": 2}', "args": "--token=abc --epochs 3", "x": None},
    {"HF_TOKEN": "", "note": "AKIAABCDEFGHIJKLMNOP and ghp_" + "a" * 36},
]
SECRET_ARGUMENTS: list[list[Any]] = [
    ["--password", "hunter2", "--epochs", "3"],
    ["python", "train.py", "--db=postgresql://a:b@h/d", 7],
    [],
]


def reference_redact(record: Mapping[str, Any], rules: RedactionRules) -> dict[str, Any]:
    """Redaction as it was before it was compiled: the map tree interpreted at every record."""
    return _walk(record, _map_tree(None), rules)


def _walk(value: Mapping[str, Any], tree: _Tree, rules: RedactionRules) -> dict[str, Any]:
    out = dict(value)
    for name, below in tree.items():
        item = out.get(name)
        if item is None:
            continue
        if below is None:
            if isinstance(item, Mapping):
                out[name] = {
                    key: REDACTED
                    if rules.is_secret(key)
                    else (redact_value(v, rules.is_secret) if isinstance(v, str) else v)
                    for key, v in item.items()
                }
        elif isinstance(below, str):
            if isinstance(item, list):
                out[name] = redact_arguments(item, rules.is_secret)
        elif isinstance(item, Mapping):
            out[name] = _walk(item, below, rules)
        elif isinstance(item, list):
            out[name] = [_walk(e, below, rules) if isinstance(e, Mapping) else e for e in item]
    return out


def with_secrets(value: Any, rng: random.Random) -> Any:
    """`value` with every user-data map (model_responses keys them MaxDepth, learning_rate) and
    every command line replaced by one with secrets."""
    if isinstance(value, dict):
        if set(value) == {"MaxDepth", "learning_rate"}:
            return dict(rng.choice(SECRET_MAPS))
        return {
            key: list(rng.choice(SECRET_ARGUMENTS))
            if key in ("ContainerArguments", "ContainerEntrypoint")
            else with_secrets(item, rng)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [with_secrets(item, rng) for item in value]
    return value


def response(seed: int, presence: float) -> dict[str, Any]:
    rng = random.Random(seed)
    body = response_for_shape(describe_output_shape(), rng, presence=presence)
    secret: dict[str, Any] = with_secrets(body, rng)
    return secret


@pytest.mark.parametrize("presence", DENSITIES)
@pytest.mark.parametrize("all_fields", [False, True])
def test_compiled_redaction_is_the_reference_walk(presence: float, all_fields: bool) -> None:
    rules = RedactionRules([r"^note$"])
    for seed in SEEDS:
        record = to_record(
            response(seed, presence), account_id="1", tags=["a:b"], all_fields=all_fields
        )
        ours, theirs = redact(record, rules), reference_redact(record, rules)
        assert ours == theirs
        assert repr(ours) == repr(theirs)  # same key order at every depth
        if presence == 1.0:
            assert ours != record  # the secrets were there to find


def test_values_of_unexpected_types_are_kept_as_the_reference_keeps_them() -> None:
    record = {
        "hyper_parameters": ["not", "a map"],
        "environment": "text",
        "algorithm_specification": {"container_arguments": "--password x"},
        "debug_hook_config": ["not a structure"],
        "debug_rule_configurations": [{"rule_parameters": {"token_": "t"}}, "loose", None],
    }
    rules = RedactionRules()
    assert redact(record, rules) == reference_redact(record, rules)


@pytest.mark.parametrize("presence", DENSITIES)
def test_record_json_is_json_dumps_compact(presence: float) -> None:
    for seed in SEEDS:
        record = to_record(response(seed, presence), account_id="1", tags=["é:ü"], all_fields=True)
        record["failure_reason"] = 'naïve "quote" \\ \n\t\u2028 😀'
        record["billable_time_in_seconds"] = float("nan") if seed % 2 else 1e300
        expected = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        assert record_json(record) == expected
