"""redact: secret-looking keys of every user-data map, default and custom patterns, purity."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
from model_responses import full_response

from sagemaker_inventory.records.redaction import (
    DEFAULT_SECRET_KEY_PATTERNS,
    REDACTED,
    RedactionRules,
    normalize_key,
    redact,
)
from sagemaker_inventory.records.shape import to_record

SECRET_KEYS = [
    "password",
    "DB_PASSWORD",
    "dbPassword",
    "PASSWD",
    "MYSQL_PWD",
    "db_pass",
    "secret",
    "client_secret",
    "AWS_SECRET_ACCESS_KEY",
    "HF_TOKEN",
    "HFToken",
    "hf-token",
    "access_token",
    "SESSIONTOKEN",
    "api_key",
    "ApiKey",
    "APIKEY",
    "x-api-key",
    "WANDB_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "private_key",
    "Private Key",
    "ssh_key",
    "credentials",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "db_creds",
    "auth",
    "Authorization",
    "OAUTH_CLIENT",
    "basic_auth",
    "connection_string",
    "SENTRY_DSN",
    "DATABASE_URL",
    "MONGODB_URI",
    "redisUrl",
    "SLACK_WEBHOOK_URL",
    "session_cookie",
    "bearer",
    "JWT_SIGNING",
    "GITHUB_PAT",
]
PLAIN_KEYS = [
    "MaxDepth",
    "learning_rate",
    "epochs",
    "max_tokens",
    "max_new_tokens",
    "tokenizer",
    "author",
    "SAGEMAKER_PROGRAM",
    "SAGEMAKER_SUBMIT_DIRECTORY",
    "PYTHONPATH",
    "keyword",
    "s3_key",
    "bypass",
    "passes",
    "path",
    "pattern",
    "model_id",
    "S3_URI",
    "data_url",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_looking_keys_are_secret(key: str) -> None:
    assert RedactionRules().is_secret(key), normalize_key(key)


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_ordinary_keys_are_not(key: str) -> None:
    assert not RedactionRules().is_secret(key), normalize_key(key)


def test_normalize_key_splits_words() -> None:
    assert normalize_key("HFToken") == "_hf_token_"
    assert normalize_key("db-Password.v2") == "_db_password_v2_"
    assert normalize_key("APIKey") == "_api_key_"


def job(**maps: dict[str, str]) -> dict[str, Any]:
    return {
        "account_id": "123456789012",
        "training_job_name": "j",
        "hyper_parameters": {"MaxDepth": "5", "api_key": "abc"},
        "environment": {"HF_TOKEN": "hf_xyz", "SAGEMAKER_PROGRAM": "train.py"},
        "tags": ["token:visible"],
        **maps,
    }


def test_values_are_replaced_and_keys_and_order_kept() -> None:
    record = job()
    out = redact(record, RedactionRules())
    assert out["hyper_parameters"] == {"MaxDepth": "5", "api_key": REDACTED}
    assert out["environment"] == {"HF_TOKEN": REDACTED, "SAGEMAKER_PROGRAM": "train.py"}
    assert list(out) == list(record)
    assert out["tags"] == ["token:visible"]  # tags are not a map: left alone


def test_redact_is_pure_and_idempotent() -> None:
    record = job()
    before = copy.deepcopy(record)
    once = redact(record, RedactionRules())
    assert record == before
    assert redact(once, RedactionRules()) == once


def test_custom_patterns_are_searched_in_the_key_as_written() -> None:
    rules = RedactionRules([r"^SAGEMAKER_", r"depth"])
    out = redact(job(), rules)
    assert out["environment"]["SAGEMAKER_PROGRAM"] == REDACTED
    assert out["hyper_parameters"]["MaxDepth"] == REDACTED  # case-insensitive
    assert rules.patterns == (*DEFAULT_SECRET_KEY_PATTERNS, r"^SAGEMAKER_", r"depth")


def test_a_bad_custom_pattern_names_itself() -> None:
    with pytest.raises(ValueError, match=r"--redact-pattern '\(unclosed' is not a valid regex"):
        RedactionRules(["(unclosed"])


def test_every_user_data_map_at_every_depth_is_covered() -> None:
    response = full_response()
    secret = {"db_password": "hunter2", "MaxDepth": "6"}
    response["HyperParameters"] = dict(secret)
    response["Environment"] = dict(secret)
    response["DebugHookConfig"]["HookParameters"] = dict(secret)
    for collection in response["DebugHookConfig"]["CollectionConfigurations"]:
        collection["CollectionParameters"] = dict(secret)
    for rule in response["DebugRuleConfigurations"] + response["ProfilerRuleConfigurations"]:
        rule["RuleParameters"] = dict(secret)
    response["ProfilerConfig"]["ProfilingParameters"] = dict(secret)
    record = to_record(response, account_id="123456789012", tags=[], all_fields=True)
    out = redact(record, RedactionRules())
    maps = [
        out["hyper_parameters"],
        out["environment"],
        out["debug_hook_config"]["hook_parameters"],
        *(
            c["collection_parameters"]
            for c in out["debug_hook_config"]["collection_configurations"]
        ),
        *(r["rule_parameters"] for r in out["debug_rule_configurations"]),
        *(r["rule_parameters"] for r in out["profiler_rule_configurations"]),
        out["profiler_config"]["profiling_parameters"],
    ]
    assert len(maps) == 10  # lists of two in full_response
    assert all(m == {"db_password": REDACTED, "MaxDepth": "6"} for m in maps)
    assert "hunter2" not in str(out)


def test_counts_are_kept_per_field_path_for_the_values_that_changed() -> None:
    record = {
        "hyper_parameters": {"api_key": "abc", "MaxDepth": "5", "tokenizer": "gpt2"},
        "environment": {"HF_TOKEN": "hf_xyz", "DB": "postgresql://u:pw@h/db", "EMPTY_TOKEN": ""},
        "algorithm_specification": {"container_arguments": ["--password", "pw", "--epochs", "3"]},
        "debug_rule_configurations": [
            {"rule_parameters": {"secret": "s"}},
            {"rule_parameters": {}},
        ],
    }
    counts: Counter[str] = Counter()
    once = redact(record, RedactionRules(), counts=counts)
    assert counts == {
        "hyper_parameters": 1,
        "environment": 2,
        "algorithm_specification.container_arguments": 1,
        "debug_rule_configurations.rule_parameters": 1,
    }
    again: Counter[str] = Counter()
    redact(once, RedactionRules(), counts=again)
    assert not again  # what is already redacted is not counted twice


def test_a_record_without_maps_is_returned_equal() -> None:
    record = {"account_id": "1", "tags": [], "resource_config": {"instance_count": 1}}
    assert redact(record, RedactionRules()) == record
