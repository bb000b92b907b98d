"""Only the AWS layer talks to AWS: an import rule over every module of the package, read by `ast`.

Outside `sagemaker_inventory/aws/` no module imports boto3, or any of botocore but its model data
(`botocore.model`, `botocore.loaders`, `xform_name`, the version); the click layer (`cli/`)
imports no botocore at all, and only it imports click. Imports under `if TYPE_CHECKING:` are not
run, so they do not count; imports inside functions do.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sagemaker_inventory"

# Reading botocore's service model is pure data: the record shape needs it.
MODEL_DATA_MODULES = frozenset({"botocore.model", "botocore.loaders"})
MODEL_DATA_NAMES = frozenset({"xform_name", "__version__"})


def runtime_imports(source: str) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name imported from it or None) for every import run at run time."""
    yield from _imports(ast.parse(source))


def _imports(node: ast.AST) -> Iterator[tuple[int, str, str | None]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports(ast.Module(body=[other], type_ignores=[]))
        elif isinstance(child, ast.Import):
            for alias in child.names:
                yield child.lineno, alias.name, None
        elif isinstance(child, ast.ImportFrom):
            module = "." * child.level + (child.module or "")
            for alias in child.names:
                yield child.lineno, module, alias.name
        else:
            yield from _imports(child)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def violation(layer: str, module: str, name: str | None) -> str | None:
    """Why `layer` (the package's subfolder, or "" for a top-level module) may not import this."""
    top = _top(module)
    if top == "click" and layer != "cli":
        return "only the click layer (cli/) imports click"
    if layer == "aws" or top not in ("boto3", "botocore"):
        return None
    if layer == "cli":
        return "the click layer imports no boto3 or botocore: ask aws/"
    if top == "boto3":
        return "only aws/ imports boto3"
    if module in MODEL_DATA_MODULES or (module == "botocore" and name in MODEL_DATA_NAMES):
        return None
    return "outside aws/, botocore is read for its model data only"


def package_violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        layer = relative.parts[0] if len(relative.parts) > 1 else ""
        for line, module, name in runtime_imports(path.read_text(encoding="utf-8")):
            why = violation(layer, module, name)
            if why:
                shown = f"from {module} import {name}" if name else f"import {module}"
                found.append(f"sagemaker_inventory/{relative}:{line}: {shown}: {why}")
    return found


def test_only_the_aws_layer_imports_boto3_and_botocore() -> None:
    assert package_violations() == []


def test_sessions_are_made_in_one_place_and_the_caller_asked_in_one() -> None:
    """Every boto3 and botocore session comes from aws/session_maker.py; GetCallerIdentity is
    sent from aws/identity.py only (the demo asks through it too)."""
    session_makers, identity_askers = set(), set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = str(path.relative_to(PACKAGE))
        source = path.read_text(encoding="utf-8")
        for _, module, name in runtime_imports(source):
            botocore_session = module == "botocore.session" or (module, name) == (
                "botocore",
                "session",
            )
            if _top(module) == "boto3" or botocore_session:
                session_makers.add(relative)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and node.attr == "get_caller_identity":
                identity_askers.add(relative)
    assert session_makers == {"aws/session_maker.py"}
    assert identity_askers == {"aws/identity.py"}


def test_the_rule_sees_runtime_imports_and_skips_type_checking_ones() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import typing\n"
        "if TYPE_CHECKING:\n    import boto3\nelse:\n    import botocore.session\n"
        "if typing.TYPE_CHECKING:\n    from botocore.client import BaseClient\n"
        "from botocore import xform_name\n"
        "def f():\n    from botocore.exceptions import ClientError\n"
        "class C:\n    def m(self):\n        try:\n            import botocore\n"
        "        except ImportError:\n            pass\n"
    )
    imports = list(runtime_imports(source))
    assert [(line, module) for line, module, _ in imports] == [
        (1, "typing"),
        (2, "typing"),
        (6, "botocore.session"),
        (9, "botocore"),
        (11, "botocore.exceptions"),
        (15, "botocore"),
    ]
    records = [violation("records", module, name) for _, module, name in imports]
    assert records == [None, None, records[2], None, records[4], records[5]]
    assert all(records[i] for i in (2, 4, 5))
    assert violation("cli", "botocore", "xform_name")
    assert violation("cli", "botocore.utils", None)
    assert violation("demo", "boto3", None)
    assert violation("aws", "botocore.credentials", None) is None
    assert violation("records", "botocore.model", "StructureShape") is None
    assert violation("output", "click", None)


def test_records_convert_with_the_service_model_handed_over() -> None:
    """records/ reads the model it is given (a run hands over its clients'), not a global."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    from sagemaker_inventory.records.shape import describe_output_shape, record_fields, to_record

    loaded = create_loader().load_service_model("sagemaker", "service-2")
    output = loaded["operations"]["DescribeTrainingJob"]["output"]["shape"]
    members = {**loaded["shapes"][output]["members"], "SmiProbeMember": {"shape": "String"}}
    shapes = {**loaded["shapes"], output: {**loaded["shapes"][output], "members": members}}
    shape = describe_output_shape(ServiceModel({**loaded, "shapes": shapes}, "sagemaker"))
    response = {"TrainingJobName": "j", "SmiProbeMember": "seen"}

    handed = to_record(response, account_id="1" * 12, tags=[], all_fields=True, shape=shape)
    bundled = to_record(response, account_id="1" * 12, tags=[], all_fields=True)
    assert handed["smi_probe_member"] == "seen"
    assert "smi_probe_member" not in bundled
    assert "smi_probe_member" in {f.name for f in record_fields(all_fields=True, shape=shape)}
    assert "smi_probe_member" not in {f.name for f in record_fields(all_fields=True)}


def test_the_run_converts_with_the_model_its_clients_are_built_from() -> None:
    from sagemaker_inventory.aws.service_models import sagemaker_model
    from sagemaker_inventory.aws.sessions import SessionFactory

    factory = SessionFactory()
    client = factory.client(factory.session(None), "sagemaker", "us-east-1")
    assert sagemaker_model() is sagemaker_model()  # one object per process: one plan
    ours = sagemaker_model().operation_model("DescribeTrainingJob").output_shape
    theirs = client.meta.service_model.operation_model("DescribeTrainingJob").output_shape
    assert ours.name == theirs.name
    assert list(ours.members) == list(theirs.members)
    assert set(sagemaker_model().operation_names) == set(client.meta.service_model.operation_names)


def all_imports(source: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import, those under `if TYPE_CHECKING:` included, with relative
    ones left as written (the package imports absolutely)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, "." * node.level + (node.module or "")


def test_the_aws_layer_leans_only_downward() -> None:
    """Issue 19: aws/ took the run's own types from collect/; collect/ composes aws/, never the
    reverse, not even for types."""
    found = [
        f"aws/{path.name}:{line}: {module}"
        for path in sorted((PACKAGE / "aws").rglob("*.py"))
        for line, module in all_imports(path.read_text(encoding="utf-8"))
        if module.startswith(("sagemaker_inventory.collect", "sagemaker_inventory.cli", "."))
    ]
    assert found == []
    planted = list(all_imports("if TYPE_CHECKING:\n    from sagemaker_inventory.collect import x"))
    assert planted == [(2, "sagemaker_inventory.collect")]
