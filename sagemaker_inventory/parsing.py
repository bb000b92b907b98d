"""botocore's JSON response parser, compiled once per output shape instead of interpreted per node.

botocore parses a JSON response by walking the output shape for every response: for each node it
looks its handler up by name and, for each structure, every member the model has. A fully
populated DescribeTrainingJob is a few hundred nodes, and that walk was the largest part of the
CPU of a describe. `CompiledJSONParser` walks each shape once into nested converter functions and
runs those: the same rules (members in model order, JSON names, nulls skipped, lists kept sparse,
timestamps and blobs through the session's parsers), so the parsed dict is exactly botocore's;
tagged unions, documents and recursive shapes are left to botocore's own walk. Register it through
botocore's "response_parser_factory" component (`CompiledParserFactory`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.parsers import JSONParser, ResponseParserFactory

Convert = Callable[[Any], Any]


class Compiled:
    """Converters by shape object, shared by the parsers of every client (botocore makes a parser
    per response). Weak keys: a client's shapes, and their converters, go with the client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._converters: weakref.WeakKeyDictionary[Shape, Convert | None] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, shape: Shape, compile_shape: Callable[[Shape], Convert | None]) -> Any:
        with self._lock:
            if shape in self._converters:
                return self._converters[shape]
        convert = compile_shape(shape)
        with self._lock:
            self._converters[shape] = convert
        return convert


class CompiledJSONParser(JSONParser):
    """A JSONParser whose shape walk is compiled once per shape object."""

    def __init__(
        self,
        timestamp_parser: Callable[[Any], Any] | None = None,
        blob_parser: Callable[[Any], Any] | None = None,
        compiled: Compiled | None = None,
    ) -> None:
        super().__init__(timestamp_parser, blob_parser)
        self._compiled = compiled or Compiled()
        # The parsers botocore settled on (its defaults where none was given).
        chosen: Any = self
        self._parse_timestamp: Convert = chosen._timestamp_parser
        self._parse_blob: Convert = chosen._blob_parser

    def _parse_shape(self, shape: Shape, node: Any) -> Any:
        convert = self._compiled.get(shape, lambda s: self._compile(s, frozenset()))
        return node if convert is None else convert(node)

    def _generic(self, shape: Shape) -> Convert:
        base: Any = super()
        walk = base._parse_shape
        return lambda node: walk(shape, node)

    def _compile(self, shape: Shape, path: frozenset[str]) -> Convert | None:
        """A converter for `shape`, or None where botocore returns the JSON value unchanged."""
        if isinstance(shape, StructureShape):
            if shape.is_document_type or shape.is_tagged_union or shape.name in path:
                return self._generic(shape)
            return self._structure(shape, path | {shape.name})
        if isinstance(shape, ListShape):
            return _list(self._compile(shape.member, path))
        if isinstance(shape, MapShape):
            return _map(self._compile(shape.key, path), self._compile(shape.value, path))
        if shape.type_name == "timestamp":
            return self._parse_timestamp
        if shape.type_name == "blob":
            return self._parse_blob
        return None

    def _structure(self, shape: StructureShape, path: frozenset[str]) -> Convert:
        members = [
            (name, member.serialization.get("name", name), member)
            for name, member in shape.members.items()
        ]
        # A member's converter is compiled when it first has a value: a client that reads a few
        # sparse responses pays for what they hold, not for the whole model below the shape.
        converters: dict[str, Convert | None] = {}

        def structure(value: Any) -> Any:
            if value is None:
                return None
            parsed = {}
            for name, json_name, member in members:
                raw = value.get(json_name)
                if raw is not None:
                    if name not in converters:
                        converters[name] = self._compile(member, path)
                    convert = converters[name]
                    parsed[name] = raw if convert is None else convert(raw)
            return parsed

        return structure


def _list(convert: Convert | None) -> Convert:
    if convert is None:
        return list
    return lambda items: [None if item is None else convert(item) for item in items]


def _map(key: Convert | None, value: Convert | None) -> Convert:
    if key is None and value is None:
        return dict
    k = key or _same
    v = value or _same
    return lambda items: {k(name): v(item) for name, item in items.items()}


def _same(value: Any) -> Any:
    return value


class CompiledParserFactory(ResponseParserFactory):
    """botocore's parser factory, with `CompiledJSONParser` for the "json" protocol."""

    def __init__(self) -> None:
        super().__init__()
        self._compiled = Compiled()

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            defaults: Any = self
            return CompiledJSONParser(compiled=self._compiled, **defaults._defaults)
        return super().create_parser(protocol_name)
