"""Tests for output columns: path lookup, cell formatting, derived columns, validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sink_records import COMPLETED

from sagemaker_inventory.output import columns
from sagemaker_inventory.output.columns import (
    DEFAULT_TABLE_COLUMNS,
    UnknownColumnError,
    column,
    default_csv_columns,
    describe_instances,
    format_cell,
    format_duration_cell,
    get_path,
    leaf_paths,
    validate_columns,
)

# A slice of the documented shape, in documentation order, with the structures listed too.
SAMPLE_PATHS = [
    "account_id",
    "algorithm_specification",
    "algorithm_specification.algorithm_name",
    "algorithm_specification.metric_definitions",
    "algorithm_specification.training_image_config",
    "algorithm_specification.training_image_config.training_repository_access_mode",
    "algorithm_specification.training_input_mode",
    "billable_time_in_seconds",
    "creation_time",
    "enable_managed_spot_training",
    "hyper_parameters",
    "resource_config",
    "resource_config.instance_count",
    "resource_config.instance_groups",
    "resource_config.instance_type",
    "secondary_status",
    "tags",
    "training_job_arn",
    "training_job_name",
    "training_job_status",
    "training_time_in_seconds",
]

SAMPLE_LEAVES = [
    "account_id",
    "algorithm_specification.algorithm_name",
    "algorithm_specification.metric_definitions",
    "algorithm_specification.training_image_config.training_repository_access_mode",
    "algorithm_specification.training_input_mode",
    "billable_time_in_seconds",
    "creation_time",
    "enable_managed_spot_training",
    "hyper_parameters",
    "resource_config.instance_count",
    "resource_config.instance_groups",
    "resource_config.instance_type",
    "secondary_status",
    "tags",
    "training_job_arn",
    "training_job_name",
    "training_job_status",
    "training_time_in_seconds",
]

# sink_records.COMPLETED, changed where these tests look: its image from another region's registry
# (the region column reads the job's ARN), its tags in the order of no sort (columns keep a
# record's order), and without the fields below (absent cells show as "-").
ABSENT = (
    "secondary_status",
    "training_time_in_seconds",
    "training_start_time",
    "training_end_time",
)
RECORD: dict[str, Any] = {
    **{key: value for key, value in copy.deepcopy(COMPLETED).items() if key not in ABSENT},
    "tags": ["team:vision", "cost-center:42"],
}
RECORD["algorithm_specification"]["training_image"] = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3"
)


@pytest.fixture
def sample_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columns, "_field_paths", lambda all_fields=False: list(SAMPLE_PATHS))


def test_get_path_walks_structures() -> None:
    assert get_path(RECORD, "resource_config.instance_type") == "ml.p3.2xlarge"
    assert get_path(RECORD, "training_job_name") == "resnet-1"
    assert get_path(RECORD, "resource_config") == RECORD["resource_config"]


def test_get_path_keeps_false_and_zero() -> None:
    assert (
        get_path(RECORD, "algorithm_specification.enable_sage_maker_metrics_time_series") is False
    )
    assert get_path({"a": {"b": 0}}, "a.b") == 0


@pytest.mark.parametrize(
    "path",
    ["training_end_time", "resource_config.keep_alive_period_in_seconds", "tags.team", "a.b.c"],
)
def test_get_path_absent_or_not_a_structure_is_none(path: str) -> None:
    assert get_path(RECORD, path) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        ("", ""),
        (3723, "3723"),
        (0.25, "0.25"),
        ('a,b "quoted"', 'a,b "quoted"'),
        (["team:vision", "cost-center:42"], '["team:vision","cost-center:42"]'),
        ({"z": "1", "MaxDepth": "6"}, '{"z":"1","MaxDepth":"6"}'),
        ([{"name": "loss", "regex": "loss=(.*)"}], '[{"name":"loss","regex":"loss=(.*)"}]'),
        ({"lang": "français"}, '{"lang":"français"}'),
        ([], "[]"),
    ],
)
def test_format_cell(value: object, text: str) -> None:
    assert format_cell(value) == text


@pytest.mark.parametrize(("value", "text"), [(3723, "1h 02m 03s"), (None, "-"), ("n/a", "n/a")])
def test_duration_columns_show_other_values_as_plain_cells(value: object, text: str) -> None:
    assert format_duration_cell(value) == text


def test_describe_instances_single_type() -> None:
    assert describe_instances(RECORD) == "ml.p3.2xlarge x 2"


def test_describe_instances_joins_instance_groups() -> None:
    record = {
        "resource_config": {
            "instance_groups": [
                {
                    "instance_count": 2,
                    "instance_group_name": "gpu",
                    "instance_type": "ml.p4d.24xlarge",
                },
                {
                    "instance_count": 1,
                    "instance_group_name": "cpu",
                    "instance_type": "ml.c5.xlarge",
                },
            ],
            "volume_size_in_gb": 100,
        }
    }
    assert describe_instances(record) == "ml.p4d.24xlarge x 2, ml.c5.xlarge x 1"
    assert column("instance_count").csv_cell(record) == "3"


def test_describe_instances_absent() -> None:
    assert describe_instances({}) is None
    assert describe_instances({"resource_config": {"volume_size_in_gb": 10}}) is None
    assert column("instance").csv_cell({}) == ""
    assert column("instance").table_cell({}) == "-"


def test_derived_columns() -> None:
    assert column("region").csv_cell(RECORD) == "eu-west-1"  # the ARN's, not the image's
    assert column("instance").csv_cell(RECORD) == "ml.p3.2xlarge x 2"
    assert column("instance_count").csv_cell(RECORD) == "2"
    assert column("region").csv_cell({}) == ""


def test_default_table_columns() -> None:
    assert [(c.key, c.header) for c in DEFAULT_TABLE_COLUMNS] == [
        ("training_job_name", "name"),
        ("training_job_status", "status"),
        ("secondary_status", "secondary status"),
        ("instance", "instance"),
        ("enable_managed_spot_training", "spot"),
        ("creation_time", "created"),
        ("training_time_in_seconds", "training time"),
        ("billable_time_in_seconds", "billable time"),
        ("region", "region"),
        ("account_id", "account"),
    ]
    cells = [c.table_cell(RECORD) for c in DEFAULT_TABLE_COLUMNS]
    assert cells == [
        "resnet-1",
        "Completed",
        "-",
        "ml.p3.2xlarge x 2",
        "false",
        "2026-03-01T12:00:00Z",
        "-",
        "1h 02m 03s",
        "eu-west-1",
        "123456789012",
    ]


def test_path_column_csv_is_exact_and_table_humanizes_durations() -> None:
    billable = column("billable_time_in_seconds")
    assert billable.csv_cell(RECORD) == "3723"
    assert billable.table_cell(RECORD) == "1h 02m 03s"
    volume = column("resource_config.volume_size_in_gb")
    assert (volume.header, volume.csv_cell(RECORD), volume.table_cell(RECORD)) == (
        "resource_config.volume_size_in_gb",
        "50",
        "50",
    )
    assert column("hyper_parameters").csv_cell(RECORD) == '{"MaxDepth":"6","eta":"0.3"}'
    assert column("tags").csv_cell(RECORD) == '["team:vision","cost-center:42"]'  # not re-sorted


def test_leaf_paths_flattens_structures_in_order() -> None:
    assert leaf_paths(SAMPLE_PATHS) == SAMPLE_LEAVES


def test_leaf_paths_when_only_leaves_are_listed() -> None:
    assert leaf_paths(SAMPLE_LEAVES) == SAMPLE_LEAVES


def test_leaf_paths_drops_duplicates() -> None:
    assert leaf_paths(["a", "b.c", "a", "b.c"]) == ["a", "b.c"]


@pytest.mark.usefixtures("sample_shape")
def test_default_csv_columns_from_shape() -> None:
    assert default_csv_columns() == SAMPLE_LEAVES


@pytest.mark.usefixtures("sample_shape")
@pytest.mark.parametrize(
    "names",
    [
        ["training_job_name", "resource_config.instance_type"],
        ["region", "instance", "instance_count"],
        ["resource_config", "algorithm_specification.training_image_config"],
        ["tags", "hyper_parameters"],
        [],
    ],
)
def test_validate_columns_accepts(names: list[str]) -> None:
    assert validate_columns(names) == names


@pytest.mark.usefixtures("sample_shape")
def test_validate_columns_trims_whitespace() -> None:
    assert validate_columns([" region", "account_id "]) == ["region", "account_id"]


@pytest.mark.usefixtures("sample_shape")
def test_validate_columns_names_the_bad_column_and_suggests() -> None:
    with pytest.raises(UnknownColumnError) as caught:
        validate_columns(["training_job_name", "resource_config.instnace_type", "also_bad"])
    message = str(caught.value)
    assert "'resource_config.instnace_type'" in message
    assert "did you mean 'resource_config.instance_type'" in message
    assert "also_bad" not in message


@pytest.mark.usefixtures("sample_shape")
@pytest.mark.parametrize(
    "name", ["", "hyper_parameters.MaxDepth", "resource_config.instance_groups.instance_type"]
)
def test_validate_columns_rejects(name: str) -> None:
    with pytest.raises(UnknownColumnError, match="unknown column"):
        validate_columns([name])


def test_unknown_column_error_is_a_value_error() -> None:
    assert issubclass(UnknownColumnError, ValueError)


def test_real_default_csv_columns_follow_documentation() -> None:
    names = default_csv_columns()
    assert names[0] == "account_id"
    assert "resource_config.instance_type" in names
    assert "resource_config.instance_groups" in names
    assert "resource_config" not in names
    assert not any(name.startswith("resource_config.instance_groups.") for name in names)
    assert names.index("creation_time") < names.index("training_job_name")
    assert len(names) == len(set(names))
    assert default_csv_columns() == names


def test_real_shape_accepts_every_default_table_column() -> None:
    keys = [c.key for c in DEFAULT_TABLE_COLUMNS]
    assert validate_columns(keys) == keys
    assert validate_columns(default_csv_columns()) == default_csv_columns()


def test_all_fields_columns_extend_the_documented_ones() -> None:
    documented = default_csv_columns()
    everything = default_csv_columns(all_fields=True)
    # Undocumented members follow the documented ones inside each structure, so the documented
    # columns keep their relative order within the longer list.
    assert [name for name in everything if name in set(documented)] == documented
    assert len(everything) > len(documented)
    assert validate_columns(everything, all_fields=True) == everything
