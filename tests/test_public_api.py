"""smi uses botocore's and boto3's public API only (issue 19), checked on the package's source.

Four rules. (a) No `obj._name` read or written where `obj` is not `self`/`cls`, unless `_name` is
smi's own (defined somewhere in the package) and not a name of botocore, boto3, urllib3 or
s3transfer; `os._exit` is allowed. (b) No `getattr`/`setattr`/`hasattr`/`delattr` with a private
name written out. (c) A class of smi's that subclasses a class of another package neither
defines nor touches (`self._name`) a private name that appears in that base class's source: no
override of their private methods, no write to their private state. (d) No import of socket, ssl,
http.client or urllib3: the wire is botocore's.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "sagemaker_inventory"
THEIR_PACKAGES = ("botocore", "boto3", "urllib3", "s3transfer")
ALLOWED = frozenset({("os", "_exit")})
WIRE_MODULES = ("socket", "ssl", "http.client", "urllib3")
ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
_PRIVATE_WORD = re.compile(r"\b_[A-Za-z]\w*")


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and len(name) > 1


def package_sources(root: Path = PACKAGE) -> dict[str, str]:
    """Module name -> source, for every module of the package."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path.read_text(encoding="utf-8")
    return found


@functools.cache
def their_private_names() -> frozenset[str]:
    """Every private word in the source of botocore, boto3, urllib3 and s3transfer."""
    words: set[str] = set()
    for package in THEIR_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            for path in Path(location).rglob("*.py"):
                words.update(_PRIVATE_WORD.findall(path.read_text(encoding="utf-8")))
    return frozenset(words)


def defined_names(trees: dict[str, ast.Module]) -> set[str]:
    """The private names the package defines: functions, classes, assigned names and attributes,
    import aliases."""
    names: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[0])
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return {name for name in names if is_private(name)}


def ours(trees: dict[str, ast.Module]) -> frozenset[str]:
    """The private names that are smi's alone."""
    return frozenset(defined_names(trees) - their_private_names())


def foreign_attributes(module: str, tree: ast.Module, own: frozenset[str]) -> Iterator[str]:
    """Rules (a) and (b)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and (
                owner.id in ("self", "cls") or (owner.id, node.attr) in ALLOWED
            ):
                continue
            if node.attr not in own:
                yield f"{module}:{node.lineno}: {ast.unparse(node)}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and is_private(node.args[1].value)
        ):
            yield f"{module}:{node.lineno}: {ast.unparse(node)}"


def wire_imports(module: str, tree: ast.Module) -> Iterator[str]:
    """Rule (d)."""
    for node in ast.walk(tree):
        written: list[str] = []
        if isinstance(node, ast.Import):
            written = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            written = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in written:
            if any(name == wire or name.startswith(f"{wire}.") for wire in WIRE_MODULES):
                yield f"{module}:{node.lineno}: imports {name}"


def imported_names(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """Every name an import binds anywhere in the module (functions import lazily here):
    name -> (module, attribute or None for the module itself)."""
    bound: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = (alias.name, None)
                else:
                    root = alias.name.split(".")[0]
                    bound[root] = (root, None)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = (node.module, alias.name)
    return bound


def resolve(expression: ast.expr, namespace: dict[str, Any], imports: dict[str, Any]) -> Any:
    """The object a base class expression names, or None where it cannot be told."""
    if isinstance(expression, ast.Attribute):
        owner = resolve(expression.value, namespace, imports)
        return None if owner is None else getattr(owner, expression.attr, None)
    if not isinstance(expression, ast.Name):
        return None
    if expression.id in namespace:
        return namespace[expression.id]
    if expression.id in imports:
        module, attribute = imports[expression.id]
        loaded = importlib.import_module(module)
        return loaded if attribute is None else getattr(loaded, attribute, None)
    return None


def their_base_words(bases: list[Any]) -> set[str]:
    """The private words in the source of every class of another package in the bases' MROs."""
    words: set[str] = set()
    for base in bases:
        for klass in getattr(base, "__mro__", ()):
            if klass.__module__.split(".")[0] in ("sagemaker_inventory", "builtins"):
                continue
            try:
                words.update(_PRIVATE_WORD.findall(inspect.getsource(klass)))
            except (OSError, TypeError):
                continue  # no source to read (a class written in C)
    return words


def touched_by(klass: ast.ClassDef) -> Iterator[tuple[int, str]]:
    """The private names a class defines in its body or reads and writes on `self`/`cls`."""
    for node in klass.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and is_private(node.name):
            yield node.lineno, node.name
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and is_private(target.id):
                    yield node.lineno, target.id
    for node in ast.walk(klass):
        if (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            yield node.lineno, node.attr


def private_overrides(module: str, tree: ast.Module, namespace: dict[str, Any]) -> Iterator[str]:
    """Rule (c)."""
    imports = imported_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or not node.bases:
            continue
        bases = [resolve(base, namespace, imports) for base in node.bases]
        words = their_base_words([base for base in bases if base is not None])
        for line, name in sorted(set(touched_by(node))):
            if name in words:
                yield f"{module}:{line}: {node.name} touches its base class's {name}"


def violations(sources: dict[str, str], *, load: bool = True) -> list[str]:
    """Every breach of the four rules in `sources` (module name -> text); `load`: import the
    modules to read their classes' bases (rule c)."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    own = ours(trees)
    found: list[str] = []
    for module, tree in trees.items():
        found += foreign_attributes(module, tree, own)
        found += wire_imports(module, tree)
        # `__main__` runs the CLI when imported: its classes (none) are read unresolved.
        loadable = load and not module.endswith("__main__")
        namespace = vars(importlib.import_module(module)) if loadable else {}
        found += private_overrides(module, tree, namespace)
    return found


def test_the_package_uses_botocores_public_api_only() -> None:
    assert violations(package_sources()) == []


PLANTED = """
import os
import socket
from http import client
from urllib3.util.wait import wait_for_read
from botocore.credentials import DeferredRefreshableCredentials
from botocore.parsers import JSONParser


class Sink:
    def __init__(self):
        self._sink = None


def fine(sink):
    os._exit(0)
    sink._sink.close()


def bad(client, shape):
    endpoint = getattr(client, "_endpoint", None)
    client._endpoint.http_session
    return shape._shape_resolver


class Keys(DeferredRefreshableCredentials):
    def _set_from_data(self, data):
        super()._set_from_data(data)
        self._mandatory_refresh_timeout = 60


def later():
    from botocore.config import Config

    class Options(Config):
        def _record_user_provided_options(self, args, kwargs):
            pass

    return Options


class Parser(JSONParser):
    def __init__(self):
        self._mine = 1
"""


def test_the_rules_catch_what_they_forbid_and_pass_what_is_smis() -> None:
    trees = {"planted": ast.parse(PLANTED)}
    own = ours(trees)
    attributes = list(foreign_attributes("planted", trees["planted"], own))
    assert sorted(line.split(": ", 1)[1] for line in attributes) == [
        "client._endpoint",
        "getattr(client, '_endpoint', None)",
        "shape._shape_resolver",
        "super()._set_from_data",
    ]
    imports = sorted(line.split(": ", 1)[1] for line in wire_imports("planted", trees["planted"]))
    assert imports == [
        "imports http.client",
        "imports socket",
        "imports urllib3.util.wait",
        "imports urllib3.util.wait.wait_for_read",
    ]
    overrides = private_overrides("planted", trees["planted"], {})
    assert sorted(line.split(": ", 2)[1] for line in overrides) == [
        "Keys touches its base class's _mandatory_refresh_timeout",
        "Keys touches its base class's _set_from_data",
        "Options touches its base class's _record_user_provided_options",
    ]
