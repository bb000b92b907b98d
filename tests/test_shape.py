"""shape.to_record on fully populated responses: names, types, order, maps, timestamps, absences."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.model import ListShape, StructureShape
from botocore.stub import Stubber
from model_responses import full_response

from sagemaker_inventory.records.shape import (
    Field,
    describe_output_shape,
    documented_fields,
    field_paths,
    format_tags,
    record_fields,
    to_record,
)

ACCOUNT = "123456789012"
UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
UNDOCUMENTED_TOP_LEVEL = {
    "BillableTokenCount",
    "ServerlessJobConfig",
    "MlflowConfig",
    "ModelPackageConfig",
    "MlflowDetails",
    "ProgressInfo",
    "OutputModelPackageArn",
}


def record_of(response: Mapping[str, Any], *, all_fields: bool = False) -> dict[str, Any]:
    return to_record(
        response, account_id=ACCOUNT, tags=["team:ml", "env:prod"], all_fields=all_fields
    )


def check_value(f: Field, value: Any, path: str) -> None:
    """The value has the JSON type the documented type promises, at every depth."""
    if f.type == "STRUCT":
        check_level(f.fields, value, path)
    elif f.type == "UNORDERED_LIST_STRUCT":
        assert isinstance(value, list) and len(value) == 2, path
        for item in value:
            check_level(f.fields, item, f"{path}[]")
    elif f.type.startswith("UNORDERED_LIST_"):
        assert isinstance(value, list) and len(value) == 2, path
        for item in value:
            check_scalar(f.type.removeprefix("UNORDERED_LIST_"), item, f"{path}[]")
    elif f.type == "MAP_STRING_STRING":
        assert isinstance(value, dict) and list(value) == ["MaxDepth", "learning_rate"], path
        assert all(isinstance(v, str) for v in value.values()), path
    else:
        check_scalar(f.type, value, path)


def check_scalar(type_: str, value: Any, path: str) -> None:
    expected: dict[str, type | tuple[type, ...]] = {
        "STRING": str,
        "INT32": int,
        "INT64": int,
        "FLOAT": float,
        "BOOLEAN": bool,
        "TIMESTAMP": str,
    }
    assert isinstance(value, expected[type_]), f"{path}: {value!r} is not {type_}"
    if type_.startswith("INT"):
        assert not isinstance(value, bool), path
    if type_ == "TIMESTAMP":
        assert UTC_Z.fullmatch(str(value)), f"{path}: {value!r}"


def check_level(fields: Sequence[Field], value: Any, path: str) -> None:
    """Exactly the expected keys, in order, each with the right type."""
    assert isinstance(value, dict), path
    assert list(value) == [f.name for f in fields], path
    for f in fields:
        check_value(f, value[f.name], f"{path}.{f.name}".lstrip("."))


@pytest.mark.parametrize("seed", range(4))
def test_every_documented_field_at_every_depth_in_doc_order(seed: int) -> None:
    check_level(documented_fields(), record_of(full_response(seed)), "")


@pytest.mark.parametrize("seed", range(4))
def test_all_fields_adds_undocumented_members_after_documented_ones(seed: int) -> None:
    record = record_of(full_response(seed), all_fields=True)
    check_level(record_fields(all_fields=True), record, "")
    top = list(record)
    assert top[: len(documented_fields())] == [f.name for f in documented_fields()]
    assert {"billable_token_count", "mlflow_config", "progress_info"} <= set(top)
    # Undocumented members of a documented structure follow its documented ones (which members
    # exist beyond the page depends on the botocore release, so only their place is checked).
    resource = list(record["resource_config"])
    documented = [f.name for f in field_named("resource_config").fields]
    assert resource[: len(documented)] == documented
    assert "instance_placement_config" in resource[len(documented) :]
    placement = record["resource_config"]["instance_placement_config"]
    assert list(placement["placement_specifications"][0]) == ["ultra_server_id", "instance_count"]
    assert "dataset_source" in record["input_data_config"][0]["data_source"]


def test_undocumented_members_are_not_in_the_default_record() -> None:
    record = record_of(full_response())
    assert "billable_token_count" not in record
    assert "instance_placement_config" not in record["resource_config"]
    assert "dataset_source" not in record["input_data_config"][1]["data_source"]


def test_map_keys_stay_verbatim_at_every_depth() -> None:
    response = full_response()
    response["HyperParameters"] = {"MaxDepth": "6", "learning_rate": "0.1", "SM_x.y": "z"}
    record = record_of(response)
    assert record["hyper_parameters"] == {"MaxDepth": "6", "learning_rate": "0.1", "SM_x.y": "z"}
    config = record["debug_hook_config"]["collection_configurations"][0]
    assert list(config["collection_parameters"]) == ["MaxDepth", "learning_rate"]
    assert list(record["environment"]) == ["MaxDepth", "learning_rate"]


def test_timestamps_become_utc_z_strings() -> None:
    response = full_response()
    response["CreationTime"] = datetime(
        2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    response["TrainingStartTime"] = datetime(2026, 3, 1, 12, 0, 0, 250_000)  # naive means UTC
    response["TrainingEndTime"] = datetime(
        2026, 3, 1, 5, 0, 1, 999, tzinfo=timezone(timedelta(hours=-7))
    )
    record = record_of(response)
    assert record["creation_time"] == "2026-03-01T12:00:00Z"
    assert record["training_start_time"] == "2026-03-01T12:00:00.250Z"
    assert record["training_end_time"] == "2026-03-01T12:00:01Z"  # 999 us: no milliseconds
    expected = response["SecondaryStatusTransitions"][0]["StartTime"].astimezone(timezone.utc)
    transition = record["secondary_status_transitions"][0]
    assert transition["start_time"].startswith(expected.strftime("%Y-%m-%dT%H:%M:%S"))


def test_absent_members_are_omitted() -> None:
    response = {
        "TrainingJobName": "running",
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/running",
        "TrainingJobStatus": "InProgress",
        "CreationTime": datetime(2026, 3, 1, tzinfo=timezone.utc),
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200},
    }
    assert record_of(response) == {
        "account_id": ACCOUNT,
        "creation_time": "2026-03-01T00:00:00Z",
        "resource_config": {"instance_count": 1, "instance_type": "ml.m5.large"},
        "tags": ["env:prod", "team:ml"],
        "training_job_arn": response["TrainingJobArn"],
        "training_job_name": "running",
        "training_job_status": "InProgress",
    }


def test_false_zero_and_empty_values_are_kept() -> None:
    response = full_response()
    response["EnableManagedSpotTraining"] = False
    response["BillableTimeInSeconds"] = 0
    response["FailureReason"] = ""
    response["ResourceConfig"]["VolumeSizeInGB"] = 0
    response["ResourceConfig"]["InstanceGroups"] = []
    response["Environment"] = {}
    response["FinalMetricDataList"][0]["Value"] = 0.0
    record = record_of(response)
    assert record["enable_managed_spot_training"] is False
    assert record["billable_time_in_seconds"] == 0
    assert record["failure_reason"] == ""
    assert record["resource_config"]["volume_size_in_gb"] == 0
    assert record["resource_config"]["instance_groups"] == []
    assert record["environment"] == {}
    assert record["final_metric_data_list"][0]["value"] == 0.0


def test_account_id_first_and_sorted_tags_where_the_doc_puts_them() -> None:
    record = to_record(full_response(), account_id=ACCOUNT, tags=["b:2", "a:1", "a:0"])
    keys = list(record)
    assert keys[0] == "account_id" and record["account_id"] == ACCOUNT
    assert keys.index("tags") == keys.index("stopping_condition") + 1
    assert record["tags"] == ["a:0", "a:1", "b:2"]
    assert "ResponseMetadata" not in json.dumps(record)


def test_output_is_json_and_identical_across_calls_without_touching_the_response() -> None:
    response = full_response(7)
    pristine = copy.deepcopy(response)
    first = json.dumps(record_of(response, all_fields=True))
    assert json.dumps(record_of(response, all_fields=True)) == first
    assert response == pristine


def test_members_unknown_to_the_model_are_dropped_even_with_all_fields() -> None:
    response = full_response()
    response["SomeFutureMember"] = "x"
    assert "some_future_member" not in record_of(response, all_fields=True)


def test_documented_provider_names_exist_at_their_nesting_and_follow_xform_name() -> None:
    def walk(fields: Sequence[Field], shape: StructureShape) -> None:
        for f in fields:
            if f.provider_name is None:
                assert shape is describe_output_shape() and f.name in {"account_id", "tags"}
                continue
            assert f.provider_name in shape.members, f.name
            assert xform_name(f.provider_name) == f.name
            member = shape.members[f.provider_name]
            if f.type in ("STRUCT", "UNORDERED_LIST_STRUCT"):
                target = member.member if isinstance(member, ListShape) else member
                assert isinstance(target, StructureShape), f.name
                walk(f.fields, target)
            else:
                assert not f.fields

    walk(documented_fields(), describe_output_shape())


def test_the_model_has_50_top_level_members_of_which_the_page_documents_43() -> None:
    members = set(describe_output_shape().members)
    documented = {f.provider_name for f in documented_fields() if f.provider_name}
    assert len(members) == 50
    assert len(documented) == 43 and documented <= members
    assert members - documented == UNDOCUMENTED_TOP_LEVEL
    assert [f.name for f in documented_fields()][:2] == ["account_id", "algorithm_specification"]


def test_field_paths_go_through_structures_not_lists() -> None:
    paths = field_paths()
    assert paths[0] == "account_id"
    assert len(paths) == len(set(paths))
    assert paths.index("resource_config") < paths.index("resource_config.instance_groups")
    assert paths.index("resource_config.instance_groups") < paths.index(
        "resource_config.instance_type"
    )
    assert "algorithm_specification.training_image_config.training_repository_auth_config" in paths
    assert not any(p.startswith("resource_config.instance_groups.") for p in paths)
    assert "resource_config.instance_placement_config" not in paths
    assert "resource_config.instance_placement_config" in field_paths(all_fields=True)
    paths.append("mutated")
    assert "mutated" not in field_paths()


def test_format_tags_sorts_key_value_strings() -> None:
    tags = [{"Key": "team", "Value": "ml"}, {"Key": "aws:cfn:stack", "Value": "a:b"}]
    assert format_tags(tags) == ["aws:cfn:stack:a:b", "team:ml"]
    assert format_tags([]) == []


def test_full_response_is_valid_for_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sagemaker", region_name="eu-west-1")
    response = full_response(3)
    with Stubber(client) as stubber:
        stubber.add_response("describe_training_job", response)
        assert client.describe_training_job(TrainingJobName="resnet-3") == response


def test_full_response_datetimes_are_aware_and_not_utc() -> None:
    value = full_response()["CreationTime"]
    assert value.utcoffset() not in (None, timedelta(0))


def field_named(name: str) -> Field:
    return next(f for f in documented_fields() if f.name == name)
