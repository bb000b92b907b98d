"""The shared loader's service models are botocore's, loaded without botocore's scan of every
service directory (aws/service_models.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from sagemaker_inventory.aws.service_models import (
    SAGEMAKER_OPERATIONS,
    CutLoader,
    load_service_model,
)

SERVICES = ["sagemaker", "sts", "resourcegroupstaggingapi", "organizations", "pricing"]
TYPES = ["service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"]


def _same(ours: Any, botocores: Any) -> bool:
    return json.dumps(ours) == json.dumps(botocores)  # content and key order


@pytest.mark.parametrize("service", SERVICES)
def test_models_load_as_botocore_loads_them(service: str) -> None:
    for type_name in TYPES:
        try:
            botocores = Loader().load_service_model(service, type_name)
        except Exception as exc:  # e.g. no waiters for this service
            with pytest.raises(type(exc)):
                load_service_model(Loader(), service, type_name)
            continue
        assert _same(load_service_model(Loader(), service, type_name), botocores), type_name


def test_extras_are_merged_as_botocore_merges_them() -> None:
    # SageMaker's paginators come with sdk-extras (non-aggregate keys).
    botocores = Loader().load_service_model("sagemaker", "paginators-1")
    ours = load_service_model(Loader(), "sagemaker", "paginators-1")
    assert "non_aggregate_keys" in json.dumps(botocores)
    assert _same(ours, botocores)


def test_an_api_version_given_is_the_one_loaded() -> None:
    version = Loader().list_api_versions("sts", "service-2")[0]
    ours = load_service_model(Loader(), "sts", "service-2", version)
    assert _same(ours, Loader().load_service_model("sts", "service-2", version))


def test_known_services_are_loaded_without_listing_every_service() -> None:
    class Counting(Loader):
        listed = 0

        def list_available_services(self, type_name: str) -> Any:
            Counting.listed += 1
            return super().list_available_services(type_name)

    loader = CutLoader(Counting())
    for type_name in ("service-2", "endpoint-rule-set-1", "paginators-1"):
        loader.load_service_model("sts", type_name)
    assert Counting.listed == 0


def test_an_unknown_service_is_botocores_unknown_service_error() -> None:
    with pytest.raises(UnknownServiceError) as botocores:
        Loader().load_service_model("no-such-service", "service-2")
    with pytest.raises(UnknownServiceError) as ours:
        CutLoader(Loader()).load_service_model("no-such-service", "service-2")
    assert str(ours.value) == str(botocores.value)


def test_a_model_is_loaded_once_and_sagemakers_is_cut() -> None:
    loader = CutLoader(Loader())
    first = loader.load_service_model("sagemaker", "service-2")
    assert first is loader.load_service_model("sagemaker", "service-2")
    assert set(first["operations"]) == SAGEMAKER_OPERATIONS
    assert first["shapes"] == Loader().load_service_model("sagemaker", "service-2")["shapes"]
