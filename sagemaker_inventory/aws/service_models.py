"""botocore's data loader, with SageMaker's service model cut down to the operations smi calls.

botocore builds every client from its service model: a method, a docstring object and an
operation model for each operation. SageMaker has ~400 operations and smi calls three, so building
a SageMaker client cost far more than building a small service's does, once per account x
region. The loader hands botocore the same model with only those operations; every shape stays, so
requests, responses and the record conversion (which walks DescribeTrainingJob's output shape) are
exactly what the full model gives. A SageMaker operation smi starts calling must be added to
`SAGEMAKER_OPERATIONS`, or its client method does not exist.

The process has one such loader (`shared_loader`): every session of every SessionFactory and the
region checks read botocore's data through it, so each of its large files (endpoints.json,
SageMaker's model) is parsed once per process rather than once per reader, and each service model
is found without botocore's scan of every service directory (`load_service_model`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import ServiceModel

# Every SageMaker operation smi calls (botocore's CamelCase names).
SAGEMAKER_OPERATIONS = frozenset({"ListTrainingJobs", "DescribeTrainingJob", "ListTags"})
_CUT = {"sagemaker": SAGEMAKER_OPERATIONS}


class CutLoader:
    """Wraps a botocore Loader (register it as a session's "data_loader" component): service
    models of the services in `_CUT` keep only the listed operations; all else is the wrapped
    loader's. Each service model is loaded once (see `load_service_model`) and then cached."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str, str | None], Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        key = (service_name, type_name, api_version)
        with self._lock:
            if key not in self._models:
                model = load_service_model(self._loader, service_name, type_name, api_version)
                keep = _CUT.get(service_name)
                if keep is not None and type_name == "service-2":
                    operations = model["operations"]
                    model = {
                        **model,
                        "operations": {n: op for n, op in operations.items() if n in keep},
                    }
                self._models[key] = model
            return self._models[key]


def load_service_model(
    loader: Any, service_name: str, type_name: str, api_version: str | None = None
) -> Any:
    """`loader.load_service_model(...)` without its first step, in which botocore lists every
    service on the search path (hundreds of directories, once per model type: service-2,
    endpoint-rule-set-1, paginators-1) only to check that `service_name` is one. A service with
    a version of `type_name` is one: its model is loaded as botocore loads it (the latest version
    unless `api_version` is given, its extras merged in). For any other, botocore's own method
    raises its UnknownServiceError."""
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import ExtrasProcessor

    try:
        versions = loader.list_api_versions(service_name, type_name)
    except DataNotFoundError:
        return loader.load_service_model(service_name, type_name, api_version)
    version = max(versions) if api_version is None else api_version
    model = loader.load_data(str(PurePath(service_name, version, type_name)))
    for extras_type in loader.extras_types:
        name = str(PurePath(service_name, version, f"{type_name}.{extras_type}-extras"))
        try:
            extras = loader.load_data(name)
        except DataNotFoundError:
            continue
        ExtrasProcessor().process(model, [extras])
    return model


_SHARED_LOCK = threading.Lock()
_SHARED: list[CutLoader] = []  # the one loader, once made


def shared_loader(make: Callable[[], Any] | None = None) -> CutLoader:
    """The process's one CutLoader. The first call wraps the loader `make` returns (a session's,
    so its data_path is honoured), or botocore's default loader (AWS_DATA_PATH honoured)."""
    with _SHARED_LOCK:
        if not _SHARED:
            if make is None:
                from botocore.loaders import create_loader

                loader = create_loader(os.environ.get("AWS_DATA_PATH"))
            else:
                loader = make()
            _SHARED.append(CutLoader(loader))
        return _SHARED[0]


_MODEL_LOCK = threading.Lock()
_MODELS: list[ServiceModel] = []  # SageMaker's, once made


def sagemaker_model() -> ServiceModel:
    """The SageMaker service model this process's clients are built from (the shared loader's),
    for the record conversion to read: one model object per process, not one per client, so
    that the conversion plan built from it is built once."""
    from botocore.model import ServiceModel

    with _MODEL_LOCK:
        if not _MODELS:
            description = shared_loader().load_service_model("sagemaker", "service-2")
            _MODELS.append(ServiceModel(description, "sagemaker"))
        return _MODELS[0]
