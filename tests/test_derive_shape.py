"""scripts/derive_shape.py: the committed shape is what the spec page derives to; fixes hold."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "derive_shape.py"
SPEC = REPO_ROOT.parent / "shared" / "spec" / "aws_sagemaker_trainingjob.txt"
COMMITTED = REPO_ROOT / "sagemaker_inventory" / "data" / "aws_sagemaker_trainingjob.json"
HEADER = "This product is not supported for your selected\nDatadog site. (\n).\n"
HEADER += "aws_sagemaker_trainingjob\n"


@pytest.fixture(scope="module")
def derive_shape() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("derive_shape", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["derive_shape"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    del sys.modules["derive_shape"]


def page(*entries: tuple[str | None, str, str | None, str | None]) -> str:
    """A synthetic spec page: (name line or None, type, provider name, description) per field."""
    lines = [HEADER.rstrip("\n")]
    for name, type_, provider, description in entries:
        if name is not None:
            lines.append(name)
        lines.append(f"Type: {type_}")
        if provider is not None:
            lines.append(f"Provider name: {provider}")
        if description is not None:
            lines.append(f"Description: {description}")
    return "\n".join(lines)


def by_name(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in fields}


FLAWED_PAGE = page(
    ("account_id", "STRING", None, None),
    ("algorithm_specification", "STRUCT", "AlgorithmSpecification", None),
    (
        "enable_sage_maker_metrics_time_series",
        "BOOLEAN",
        "EnableSageMakerMetricsTimeSeries",
        "Set to true\n. Not generated except in the following cases:metric_definitions",
    ),
    (None, "UNORDERED_LIST_STRUCT", "MetricDefinitions", "Metric definitions."),
    ("name", "STRING", "Name", "The name of the metric."),
    ("infra_check_config", "STRUCT", "InfraCheckConfig", None),
    ("enable_infra_check", "BOOLEAN", "EnableInfraCheck", "Enables a check."),
    (None, "UNORDERED_LIST_STRUCT", "InputDataConfig", "Channels."),
    ("channel_name", "STRING", "ChannelName", "The name of the channel."),
    ("stopping_condition", "STRUCT", "StoppingCondition", None),
    ("max_wait_time_in_seconds", "INT32", "MaxWaitTimeInSeconds", "Spot wait."),
    (None, "UNORDERED_LIST_STRING", None, None),
    ("training_job_name", "STRING", "TrainingJobName", "Name of the job."),
)


def test_real_spec_reproduces_the_committed_json(derive_shape: ModuleType) -> None:
    if not SPEC.exists():
        pytest.skip(f"spec page not found at {SPEC} (shared/ is expected beside the clone)")
    derived = derive_shape.derive(SPEC.read_text(encoding="utf-8"), SPEC.name)
    assert derive_shape.render(derived) == COMMITTED.read_text(encoding="utf-8")


def test_check_mode_flags_a_stale_file(derive_shape: ModuleType, tmp_path: Path) -> None:
    if not SPEC.exists():
        pytest.skip(f"spec page not found at {SPEC} (shared/ is expected beside the clone)")
    out = tmp_path / "shape.json"
    assert derive_shape.main([str(SPEC), str(out), "--check"]) == 1  # missing counts as stale
    assert derive_shape.main([str(SPEC), str(out)]) == 0
    assert derive_shape.main([str(SPEC), str(out), "--check"]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("INT32", "INT64", 1), encoding="utf-8")
    assert derive_shape.main([str(SPEC), str(out), "--check"]) == 1


def test_the_three_flaws_are_repaired(derive_shape: ModuleType) -> None:
    fields = by_name(derive_shape.derive(FLAWED_PAGE, "synthetic.txt")["fields"])
    assert list(fields) == [
        "account_id",
        "algorithm_specification",
        "infra_check_config",
        "input_data_config",
        "stopping_condition",
        "tags",
        "training_job_name",
    ]
    spec_fields = by_name(fields["algorithm_specification"]["fields"])
    assert spec_fields["enable_sage_maker_metrics_time_series"]["description"] == (
        "Set to true\n. Not generated except in the following cases:"
    )
    assert spec_fields["metric_definitions"]["provider_name"] == "MetricDefinitions"
    assert [f["name"] for f in spec_fields["metric_definitions"]["fields"]] == ["name"]
    assert fields["input_data_config"]["type"] == "UNORDERED_LIST_STRUCT"
    assert [f["name"] for f in fields["input_data_config"]["fields"]] == ["channel_name"]
    assert fields["tags"] == {
        "name": "tags",
        "type": "UNORDERED_LIST_STRING",
        "provider_name": None,
        "description": None,
    }
    assert fields["account_id"]["provider_name"] is None


def test_a_corrected_page_fails_loudly_instead_of_being_mangled(derive_shape: ModuleType) -> None:
    corrected = FLAWED_PAGE.replace(
        "Type: UNORDERED_LIST_STRUCT\nProvider name: InputDataConfig",
        "input_data_config\nType: UNORDERED_LIST_STRUCT\nProvider name: InputDataConfig",
    )
    with pytest.raises(derive_shape.SpecError, match="input_data_config name line lost"):
        derive_shape.derive(corrected, "corrected.txt")
    remaining = derive_shape.KNOWN_FLAWS - {derive_shape.FLAW_INPUT_DATA_CONFIG}
    fields = by_name(derive_shape.derive(corrected, "corrected.txt", remaining)["fields"])
    assert fields["input_data_config"]["provider_name"] == "InputDataConfig"


def test_an_unknown_nameless_field_is_refused(derive_shape: ModuleType) -> None:
    text = page(("account_id", "STRING", None, None), (None, "STRING", "RoleArn", "Role."))
    with pytest.raises(derive_shape.SpecError, match="not a known flaw"):
        derive_shape.derive(text, "x.txt", flaws=())


def test_a_sibling_sorting_after_a_nested_list_returns_to_its_parent(
    derive_shape: ModuleType,
) -> None:
    text = page(
        ("resource_config", "STRUCT", "ResourceConfig", "Resources."),
        ("instance_count", "INT32", "InstanceCount", "Count."),
        ("instance_groups", "UNORDERED_LIST_STRUCT", "InstanceGroups", "Groups."),
        ("instance_count", "INT32", "InstanceCount", "Group count."),
        ("instance_type", "STRING", "InstanceType", "Group type."),
        ("instance_type", "STRING", "InstanceType", "Job type."),
        ("volume_size_in_gb", "INT32", "VolumeSizeInGB", "Size."),
        ("role_arn", "STRING", "RoleArn", "Role."),
    )
    fields = by_name(derive_shape.derive(text, "x.txt", flaws=())["fields"])
    assert list(fields) == ["resource_config", "role_arn"]
    config = by_name(fields["resource_config"]["fields"])
    assert list(config) == [
        "instance_count",
        "instance_groups",
        "instance_type",
        "volume_size_in_gb",
    ]
    assert config["instance_type"]["description"] == "Job type."
    groups = [f["name"] for f in config["instance_groups"]["fields"]]
    assert groups == ["instance_count", "instance_type"]


def test_multi_line_descriptions_are_kept_verbatim(derive_shape: ModuleType) -> None:
    text = page(("role_arn", "STRING", "RoleArn", "The role\n. See RoleArn\nfor details."))
    (role,) = derive_shape.derive(text, "x.txt", flaws=())["fields"]
    assert role["description"] == "The role\n. See RoleArn\nfor details."


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (("role_arn", "INT32", "RoleArn", None), "INT32 in the doc, string in the model"),
        (("role", "STRING", "RoleArn", None), "role is not role_arn"),
        (("role_arn", "STRING", "NoSuchMember", None), "fits no open structure"),
        (("region", "STRING", None, None), "fits no open structure"),
    ],
)
def test_disagreement_with_the_model_is_refused(
    derive_shape: ModuleType, entry: tuple[str, str, str | None, str | None], message: str
) -> None:
    with pytest.raises(derive_shape.SpecError, match=message):
        derive_shape.derive(page(entry), "x.txt", flaws=())


def test_siblings_out_of_order_are_refused(derive_shape: ModuleType) -> None:
    text = page(("tags", "UNORDERED_LIST_STRING", None, None), ("account_id", "STRING", None, None))
    with pytest.raises(derive_shape.SpecError, match="account_id sorts before tags"):
        derive_shape.derive(text, "x.txt", flaws=())
