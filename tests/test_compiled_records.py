"""The fast record path equals a straightforward reference, over responses from
tests/model_responses.py at several densities (as botocore parses them, with datetimes, and as
sent, with epoch seconds): the compiled conversion against an interpreter of the same plan,
timestamps written without a datetime against datetime's own text, redaction's compiled tree
against the walk it replaced, and the one configured JSON encoder against json.dumps."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import dateutil.tz
import pytest
from model_responses import as_sent, response_for_shape

from sagemaker_inventory.records.conversion import ListOf, MapOf, Member, StructureOf
from sagemaker_inventory.records.record import record_json
from sagemaker_inventory.records.redaction import (
    REDACTED,
    RedactionRules,
    _map_tree,
    _Tree,
    redact,
)
from sagemaker_inventory.records.secret_values import redact_arguments, redact_value
from sagemaker_inventory.records.shape import conversion_plan, describe_output_shape, to_record
from sagemaker_inventory.records.timestamps import format_timestamp

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


def reference_record(
    plan: StructureOf, value: Mapping[str, Any], extras: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Conversion as it was before it was compiled: the plan interpreted member by member."""
    record: dict[str, Any] = {}
    for source, target, member in plan.members:
        if source is None:
            if extras is not None:
                record[target] = extras[target]
            continue
        item = value.get(source)
        if item is not None:
            record[target] = item if member is None else interpret(member)(item)
    return record


def interpret(member: Member) -> Callable[[Any], Any]:
    if isinstance(member, StructureOf):
        return lambda value: reference_record(member, value, None)
    if isinstance(member, ListOf):
        if member.element is None:
            return list
        element = interpret(member.element)
        return lambda items: [element(item) for item in items]
    if isinstance(member, MapOf):
        if member.value is None:
            return dict
        value = interpret(member.value)
        return lambda items: {key: value(item) for key, item in items.items()}
    assert member is not None
    return member


def reference_timestamp(value: Any) -> str:
    """format_timestamp as it was: through a datetime, whatever the value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, timezone.utc)
    elif isinstance(value, datetime):
        moment = value.astimezone(timezone.utc) if value.tzinfo else value
    else:
        raise TypeError(type(value).__name__)
    text = moment.replace(tzinfo=None, microsecond=0).isoformat()
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def outcome(write: Callable[[Any], str], value: Any) -> str | type[Exception]:
    try:
        return write(value)
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize("presence", DENSITIES)
@pytest.mark.parametrize("all_fields", [False, True])
@pytest.mark.parametrize("form", ["parsed", "as sent"])
def test_compiled_conversion_is_the_plan_interpreted(
    presence: float, all_fields: bool, form: str
) -> None:
    plan = conversion_plan(all_fields=all_fields, shape=describe_output_shape())
    for seed in SEEDS:
        body = response_for_shape(describe_output_shape(), random.Random(seed), presence=presence)
        body = as_sent(body) if form == "as sent" else body
        ours = to_record(body, account_id="1", tags=["b:2", "a:1"], all_fields=all_fields)
        theirs = reference_record(plan, body, {"account_id": "1", "tags": ["a:1", "b:2"]})
        assert ours == theirs
        assert repr(ours) == repr(theirs)  # same key order, same types at every depth


EDGES = [0, 0.0, 1, 0.0005, 0.0004999, 0.9995, 0.9999994, 0.9999995, 0.9999996, 86399.9999996]
EDGES += [951782400.5, 1772366400, 1772366400.123, 1772366400.1235, 253402300798.9999]
EDGES += [253402300799, 253402300799.5, -1.5, -0.0000001]


def test_epoch_seconds_are_written_as_datetime_writes_them() -> None:
    rng = random.Random(0)
    values = list(EDGES)
    for _ in range(20_000):
        whole = rng.randrange(0, 253402300799)
        values += [whole, whole + rng.random(), whole + rng.randrange(1000) / 1000]
        values.append(whole + rng.randrange(1000) / 1000 + rng.choice([-5e-7, 5e-7, 4e-4]))
    for value in values:
        assert format_timestamp(value) == reference_timestamp(value), value


class NoOffset(tzinfo):
    """A tzinfo that gives no offset: astimezone takes such a datetime as local time."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


ZONES: list[tzinfo | None] = [
    None,
    timezone.utc,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-7)),
    timezone(timedelta(hours=1, seconds=17, microseconds=999)),
    dateutil.tz.tzutc(),
    dateutil.tz.tzlocal(),
    dateutil.tz.gettz("America/New_York"),
    NoOffset(),
]


def test_datetimes_are_written_as_before() -> None:
    rng = random.Random(1)
    for _ in range(5_000):
        moment = datetime(1, 1, 2) + timedelta(microseconds=rng.randrange(315_500_000_000_000_000))
        value = moment.replace(tzinfo=rng.choice(ZONES), fold=rng.randrange(2))
        assert outcome(format_timestamp, value) == outcome(reference_timestamp, value), value


@pytest.mark.parametrize("zone", ZONES)
def test_datetimes_at_the_ends_of_their_range_are_written_or_fail_as_before(
    zone: tzinfo | None,
) -> None:
    for moment in (datetime.min, datetime.max, datetime(2026, 3, 8, 2, 30), datetime(1970, 1, 1)):
        value = moment.replace(tzinfo=zone)
        assert outcome(format_timestamp, value) == outcome(reference_timestamp, value), value


@pytest.mark.parametrize("value", [True, "1772366400", float("nan"), float("inf"), 10**20, -1e20])
def test_values_that_are_no_timestamp_fail_as_before(value: Any) -> None:
    assert outcome(format_timestamp, value) == outcome(reference_timestamp, value)


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
                out[name] = {key: _entry(rules, key, v) for key, v in item.items()}
        elif isinstance(below, str):
            if isinstance(item, list):
                out[name] = redact_arguments(item, rules.is_secret_value, rules.redact_word)
        elif isinstance(item, Mapping):
            out[name] = _walk(item, below, rules)
        elif isinstance(item, list):
            out[name] = [_walk(e, below, rules) if isinstance(e, Mapping) else e for e in item]
    return out


def _entry(rules: RedactionRules, key: str, value: Any) -> Any:
    """One map entry, by the policy written out without the memos."""
    found = rules.key_class(key)
    if found == "extra":
        return REDACTED
    if not isinstance(value, str):
        return value
    if rules.is_secret_value(key, value):
        return REDACTED
    return redact_value(value, rules.is_secret_value)


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
