"""Size limits and import cycles, over every module of the package, read by `ast` (issue 13).

No module over 400 lines, no function over 60 lines (from its `def` to its last line) or over 15
parameters, and no import cycle among the package's modules. Imports under `if TYPE_CHECKING:` are
not run, so they do not count; imports inside functions do (a cycle hidden in a function is still a
cycle: each module needs the other to be whole).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from test_aws_edge import runtime_imports

PACKAGE = Path(__file__).resolve().parent.parent / "sagemaker_inventory"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_PARAMETERS = 15
# No cycle at all (the last one went when sessions were made in aws/session_maker.py).
KNOWN_CYCLES: list[list[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def parameter_count(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    arguments = function.args
    named = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    return len(named) + (arguments.vararg is not None) + (arguments.kwarg is not None)


def imported_modules(name: str, source: str) -> set[str]:
    """The package's modules `name` imports at run time (`from package import module` included)."""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for _, written, imported in runtime_imports(source):
        module = written
        if written.startswith("."):
            level = len(written) - len(written.lstrip("."))
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            module = f"{base}.{written.lstrip('.')}".rstrip(".")
        candidates = [f"{module}.{imported}", module] if imported else [module]
        target = next((c for c in candidates if c in MODULES), None)
        if target is not None and target != name:
            found.add(target)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_is_over_the_line_limit() -> None:
    long = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_the_line_or_parameter_limit() -> None:
    over = []
    for name, path in MODULES.items():
        for function in functions(ast.parse(path.read_text())):
            lines = (function.end_lineno or function.lineno) - function.lineno + 1
            parameters = parameter_count(function)
            if lines > MAX_FUNCTION_LINES or parameters > MAX_PARAMETERS:
                over.append(f"{name}.{function.name}: {lines} lines, {parameters} parameters")
    assert over == []


def test_no_import_cycles_but_the_known_one() -> None:
    graph = {name: imported_modules(name, path.read_text()) for name, path in MODULES.items()}
    assert import_cycles(graph) == KNOWN_CYCLES, "a new cycle, or KNOWN_CYCLES is out of date"


def test_the_checks_see_what_they_check() -> None:
    """The rules would pass vacuously if the walk found no modules or missed an import."""
    assert len(MODULES) > 50 and "sagemaker_inventory.cli" in MODULES
    source = "from sagemaker_inventory.collect import plan\nfrom .run import x\n"
    assert imported_modules("sagemaker_inventory.collect.command", source) == {
        "sagemaker_inventory.collect.plan",
        "sagemaker_inventory.collect.run",
    }
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    two = ast.parse("def f(a, /, b, *c, d, **e):\n    pass\n")
    assert [parameter_count(f) for f in functions(two)] == [5]


# Lower layers never reach up into the run that composes them (issue 19.9): the snapshot takes
# plain types of its own or of records/, and collect/ builds them. Imports under TYPE_CHECKING
# count here too: a type borrowed from above is still a dependency on it.
# The report reads S3 through a Protocol of its own (report.inputs.ObjectStore) that cli/ fills.
LAYERS_ABOVE = {
    "snapshot": ("collect", "cli", "aws", "report", "demo"),
    "report": ("collect", "cli", "aws"),
}


def every_imported_module(source: str) -> set[str]:
    """The modules `source` names in any import, at run time or for type checking only."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def upward_imports() -> list[str]:
    found = []
    for name, path in MODULES.items():
        layer = name.split(".")[1] if name.count(".") else ""
        for above in LAYERS_ABOVE.get(layer, ()):
            prefix = f"sagemaker_inventory.{above}"
            for module in sorted(every_imported_module(path.read_text())):
                if module == prefix or module.startswith(prefix + "."):
                    found.append(f"{name} imports {module}")
    return found


def test_the_snapshot_and_the_report_import_nothing_from_the_layers_that_compose_them() -> None:
    assert upward_imports() == []


def test_the_layer_rule_sees_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sagemaker_inventory.collect.outcome import RunSummary\n"
        "from sagemaker_inventory import collect\n"
    )
    assert {"sagemaker_inventory.collect.outcome", "sagemaker_inventory.collect"} <= (
        every_imported_module(source)
    )
