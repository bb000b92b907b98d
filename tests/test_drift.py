"""`smi schema --drift`: computed from the installed botocore, never from a fixed list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from click.testing import CliRunner, Result

from sagemaker_inventory.cli import cli
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.records import drift as drift_module
from sagemaker_inventory.records.drift import Drift, find_drift
from sagemaker_inventory.records.shape import (
    Field,
    describe_output_shape,
    documented_fields,
    record_fields,
)


def smi(*args: str, columns: int = 100) -> Result:
    return CliRunner().invoke(cli, ["schema", *args], env={"COLUMNS": str(columns)})


def _undocumented_paths(fields: tuple[Field, ...], prefix: str) -> Iterator[str]:
    """The --all-fields tree's own answer: undocumented fields right below documented ones."""
    for f in fields:
        if not f.documented:
            yield prefix + f.name
        elif f.fields:
            below = "[]." if f.type.startswith("UNORDERED_LIST") else "."
            yield from _undocumented_paths(f.fields, prefix + f.name + below)


def test_top_level_drift_is_the_model_minus_the_documented_members() -> None:
    documented = {f.provider_name for f in documented_fields() if f.provider_name}
    expected = set(describe_output_shape().members) - documented
    top = {m.api_path for m in find_drift().undocumented if "." not in m.api_path}
    assert top == expected


def test_drift_agrees_with_what_all_fields_adds() -> None:
    found = {m.path for m in find_drift().undocumented}
    assert found == set(_undocumented_paths(record_fields(all_fields=True), ""))


def test_each_member_has_its_snake_case_name_and_type() -> None:
    shape = describe_output_shape()
    for member in find_drift().undocumented:
        if "." in member.api_path:
            continue
        assert member.path == member.path.lower()
        model = shape.members[member.api_path]
        assert member.type in {"STRUCT", "STRING", "INT32", "INT64", "BOOLEAN", "FLOAT"} or (
            member.type.startswith(("UNORDERED_LIST_", "MAP_"))
        ), (member, model.type_name)


def test_documented_fields_the_model_lacks_are_listed_top_level_and_nested() -> None:
    fields = documented_fields()
    gone = Field("gone_field", "STRING", "GoneField", None)
    nested = tuple(
        replace(f, fields=(*f.fields, Field("old_knob", "INT32", "OldKnob", None)))
        if f.name == "resource_config"
        else f
        for f in fields
    )
    drift = find_drift((*nested, gone))
    assert [m.as_dict() for m in drift.missing_from_api] == [
        {"path": "resource_config.old_knob", "api_path": "ResourceConfig.OldKnob", "type": "INT32"},
        {"path": "gone_field", "api_path": "GoneField", "type": "STRING"},
    ]


def test_cli_json_exit_0_without_strict() -> None:
    result = smi("--drift", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"botocore_version", "operation", "undocumented", "missing_from_api"}
    assert document["undocumented"] == [m.as_dict() for m in find_drift().undocumented]


def test_cli_strict_exit_code_follows_the_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    drifted = find_drift().drifted
    result = smi("--drift", "--strict", "--format", "json")
    assert result.exit_code == (ExitCode.DRIFT if drifted else 0)
    monkeypatch.setattr(drift_module, "find_drift", Drift)
    assert smi("--drift", "--strict", "--format", "json").exit_code == 0


def test_cli_table_names_every_member() -> None:
    result = smi("--drift", "--format", "table", columns=160)
    assert result.exit_code == 0
    for member in find_drift().undocumented:
        assert f" {member.path} " in result.stdout
        assert f" {member.api_path} " in result.stdout


@pytest.mark.parametrize("args", [["--strict"], ["--format", "table"], ["--drift", "--all-fields"]])
def test_drift_options_need_drift(args: list[str]) -> None:
    result = smi(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
