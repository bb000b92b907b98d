"""One home for each idea, read from the package's source with `ast` and `tokenize`.

Timestamps are read and written in records/timestamps.py, ARNs split in records/arns.py, the
record types named in records/record.py, scope statuses spelt in collect/outcome.py; the
throttling design is written once (aws/adaptive_rate.py's docstring) and the other layers point to
it; and comments and docstrings carry no benchmark figures, which go stale (docs/benchmarks.md
has them, with their command).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sagemaker_inventory"
MODULES = sorted(PACKAGE.rglob("*.py"))

# "(measured: 16.8 s ...)", "~15% of the CPU", "12 ms", "6 MB", "0.3 s of CPU", "3x faster".
BENCHMARK_FIGURE = re.compile(
    r"\(measured|measured:|\d\s?%|\d\s?(?:ms|MB|GB|KB|µs)\b|\d\s?s of CPU|\d\s?x (?:faster|slower)",
    re.IGNORECASE,
)


def name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def prose(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring of a module."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                yield getattr(node, "lineno", 1), docstring


def calls(source: str, attribute: str) -> Iterator[tuple[int, str, str]]:
    """(line, source of the receiver, source of the arguments) of every call of a method named
    `attribute`."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == attribute
        ):
            arguments = ", ".join(ast.unparse(argument) for argument in node.args)
            yield node.lineno, ast.unparse(node.func.value), arguments


def test_comments_and_docstrings_carry_no_benchmark_figures() -> None:
    found = [
        f"{name(path)}:{line}: {match.group(0)!r}"
        for path in MODULES
        for line, text in prose(path.read_text())
        for match in BENCHMARK_FIGURE.finditer(text)
    ]
    assert not found, "benchmark figures belong in docs/benchmarks.md:\n" + "\n".join(found)


def test_iso_timestamps_are_read_and_written_in_records_timestamps_only() -> None:
    found = [
        f"{name(path)}:{line}"
        for path in MODULES
        if name(path) != "records/timestamps.py"
        for line, _, _ in calls(path.read_text(), "fromisoformat")
    ]
    found += [
        name(path)
        for path in MODULES
        if name(path) != "records/timestamps.py" and "%Y-%m-%dT%H:%M:%S" in path.read_text()
    ]
    assert not found


ARN_SPLITTERS = frozenset({"records/arns.py"})


def test_arns_are_split_in_records_arns_only() -> None:
    found = [
        f"{name(path)}:{line}: {receiver}"
        for path in MODULES
        if name(path) not in ARN_SPLITTERS
        for method in ("split", "rsplit")
        for line, receiver, arguments in calls(path.read_text(), method)
        if "arn" in receiver.lower() and arguments.startswith("':'")
    ]
    assert not found


def module_level_names(source: str) -> Iterator[tuple[str, ast.expr | None]]:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                values = (
                    node.value.elts
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                    else [node.value] * len(elements)
                )
                for element, value in zip(elements, values, strict=True):
                    if isinstance(element, ast.Name):
                        yield element.id, value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, node.value


def test_the_record_types_are_named_in_records_record_only() -> None:
    homes = {
        name(path)
        for path in MODULES
        for defined, _ in module_level_names(path.read_text())
        if defined in ("Record", "MutableRecord")
    }
    assert homes == {"records/record.py"}


@pytest.mark.parametrize("status", ["ok", "failed", "skipped"])
def test_scope_statuses_are_spelt_once(status: str) -> None:
    homes = [
        f"{name(path)}: {defined}"
        for path in MODULES
        for defined, value in module_level_names(path.read_text())
        if isinstance(value, ast.Constant) and value.value == status
    ]
    assert homes == [f"collect/outcome.py: {status.upper()}"]


def module_docstring(module: str) -> str:
    return ast.get_docstring(ast.parse((PACKAGE / module).read_text())) or ""


def class_docstring(module: str, class_name: str) -> str:
    for node in ast.parse((PACKAGE / module).read_text()).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return ast.get_docstring(node) or ""
    raise AssertionError(f"{module} has no class {class_name}")


def test_the_throttling_design_is_written_once_and_the_layers_point_to_it() -> None:
    design = module_docstring("aws/adaptive_rate.py")
    for layer in ("pacing.Pacer", "botocore retries", "retry_waits", "fetch.ThrottleRetry"):
        assert layer in design
    pointers = [
        module_docstring("aws/pacing.py"),
        module_docstring("aws/retry_waits.py"),
        class_docstring("aws/fetch.py", "ThrottleRetry"),
    ]
    for pointer in pointers:
        assert "`adaptive_rate`'s docstring" in " ".join(pointer.split())
