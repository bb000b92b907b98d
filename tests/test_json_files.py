"""The shared loader reads botocore's data files into plain dicts, with botocore's content and
order (aws/json_files.py)."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from botocore import BOTOCORE_ROOT
from botocore.loaders import JSONFileLoader, Loader

from sagemaker_inventory.aws.json_files import PlainJSONFileLoader
from sagemaker_inventory.aws.service_models import _reading_plain_json, shared_loader

DATA = Path(BOTOCORE_ROOT) / "data"


def _model_path(service: str, type_name: str) -> str:
    version = Loader().determine_latest_version(service, type_name)
    return str(DATA / service / version / type_name)


def _kinds(value: Any) -> set[type]:
    if isinstance(value, dict):
        return {type(value)}.union(*(_kinds(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_kinds(v) for v in value))
    return set()


@pytest.mark.parametrize(
    "path",
    [
        str(DATA / "endpoints"),
        str(DATA / "partitions"),
        _model_path("sagemaker", "service-2"),  # .json.gz
        _model_path("sagemaker", "endpoint-rule-set-1"),
        _model_path("sts", "service-2"),
        _model_path("resourcegroupstaggingapi", "service-2"),
    ],
)
def test_plain_reads_equal_botocores_in_content_and_order(path: str) -> None:
    ours, botocores = PlainJSONFileLoader().load_file(path), JSONFileLoader().load_file(path)
    assert ours is not None
    assert ours == botocores
    assert json.dumps(ours) == json.dumps(botocores)  # same key order everywhere
    assert OrderedDict not in _kinds(ours)


def test_a_missing_file_is_none_as_with_botocore(tmp_path: Path) -> None:
    assert PlainJSONFileLoader().load_file(str(tmp_path / "absent")) is None


def test_the_shared_loader_reads_plain_json() -> None:
    assert isinstance(shared_loader().file_loader, PlainJSONFileLoader)


def test_a_loader_with_a_file_reader_of_its_own_keeps_it() -> None:
    class Custom(JSONFileLoader):
        pass

    reader = Custom()
    assert _reading_plain_json(Loader(file_loader=reader)).file_loader is reader
