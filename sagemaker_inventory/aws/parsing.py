"""botocore's JSON response parser, compiled once per output shape instead of interpreted per node.

botocore parses a JSON response by walking the output shape for every response: for each node it
looks its handler up by name and, for each structure, every member the model has. A fully
populated DescribeTrainingJob is a few hundred nodes, and that walk was the largest part of the
CPU of a describe. `CompiledJSONParser` walks each shape once into nested converter functions and
runs those: the same rules (members in model order, JSON names, nulls skipped, lists kept sparse,
timestamps and blobs through the session's parsers), so the parsed dict is exactly botocore's;
tagged unions, documents and recursive shapes are left to botocore's own walk. Register it through
botocore's "response_parser_factory" component (`CompiledParserFactory`).

Some output shapes are better not walked at all: when smi reads a response member by member
anyway (DescribeTrainingJob becomes a record that way), the JSON document as the service sent it
serves as well, provided botocore would change nothing but timestamps in it (no blobs to decode,
no renamed members, no unions or documents: `reads_as_sent` checks the whole shape tree). Such
shapes (`as_sent`) are handed over as the decoded JSON document: timestamps stay epoch seconds,
and members botocore does not model stay in. A shape that fails the check is parsed as usual.
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
    """Converters by shape, shared by the parsers of every client of a SessionFactory (botocore
    makes a parser per response and a service model, with new shape objects, per client).

    A named shape of a service model (no member traits of its own) is the same entry of the
    model's shape map in every client built from one loaded model, so its converter is kept by
    that entry and compiled once per process, not once per client; other shapes (members with
    traits, reached by botocore's own walk) are kept by shape object, weakly, and go with their
    client.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_shape: weakref.WeakKeyDictionary[Shape, Convert | None] = (
            weakref.WeakKeyDictionary()
        )
        # (id of the shape map, shape name) -> (the shape map, kept alive so the id stays its
        # own, and the converter).
        self._by_name: dict[tuple[int, str], tuple[Any, Convert | None]] = {}

    def get(self, shape: Shape, compile_shape: Callable[[Shape], Convert | None]) -> Any:
        shapes = _shape_map_of(shape)
        key = (id(shapes), shape.name)
        with self._lock:
            if shapes is not None and key in self._by_name:
                return self._by_name[key][1]
            if shape in self._by_shape:
                return self._by_shape[shape]
        convert = compile_shape(shape)
        with self._lock:
            if shapes is not None:
                self._by_name[key] = (shapes, convert)
            else:
                self._by_shape[shape] = convert
        return convert


def _shape_map_of(shape: Shape) -> dict[str, Any] | None:
    """The shape map of `shape`'s service model when `shape` is a plain entry of it (botocore
    copies the entry for a member with traits of its own); None otherwise. botocore keeps both
    on private attributes; without them every shape is kept by object."""
    resolver = getattr(shape, "_shape_resolver", None)
    shapes = getattr(resolver, "_shape_map", None)
    if not isinstance(shapes, dict):
        return None
    return shapes if shapes.get(shape.name) is getattr(shape, "_shape_model", None) else None


class CompiledJSONParser(JSONParser):
    """A JSONParser whose shape walk is compiled once per shape object."""

    def __init__(
        self,
        timestamp_parser: Callable[[Any], Any] | None = None,
        blob_parser: Callable[[Any], Any] | None = None,
        compiled: Compiled | None = None,
        as_sent: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(timestamp_parser, blob_parser)
        self._compiled = compiled or Compiled()
        self._as_sent = as_sent
        # The parsers botocore settled on (its defaults where none was given).
        chosen: Any = self
        self._parse_timestamp: Convert = chosen._timestamp_parser
        self._parse_blob: Convert = chosen._blob_parser

    def _parse_shape(self, shape: Shape, node: Any) -> Any:
        convert = self._compiled.get(shape, self._compile_top)
        return node if convert is None else convert(node)

    def _compile_top(self, shape: Shape) -> Convert | None:
        if shape.name in self._as_sent and reads_as_sent(shape):
            return _as_sent
        return self._compile(shape, frozenset())

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


def _as_sent(document: Any) -> Any:
    # A copy, as botocore's parse makes one: the caller adds ResponseMetadata to it.
    return dict(document) if isinstance(document, dict) else document


def reads_as_sent(shape: Shape, seen: frozenset[str] = frozenset()) -> bool:
    """Whether botocore's parse of `shape` would only turn timestamps into datetimes (and drop
    members it does not model): no blob anywhere below, no member with a JSON name of its own,
    no tagged union or document."""
    if shape.name in seen:
        return True
    seen = seen | {shape.name}
    if shape.type_name == "blob":
        return False
    if isinstance(shape, StructureShape):
        if shape.is_tagged_union or shape.is_document_type:
            return False
        return all(
            member.serialization.get("name", name) == name and reads_as_sent(member, seen)
            for name, member in shape.members.items()
        )
    if isinstance(shape, ListShape):
        return reads_as_sent(shape.member, seen)
    if isinstance(shape, MapShape):
        return reads_as_sent(shape.key, seen) and reads_as_sent(shape.value, seen)
    return True


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
    """botocore's parser factory, with `CompiledJSONParser` for the "json" protocol; the output
    shapes named in `as_sent` are handed over as sent where botocore would only convert
    timestamps (see the module's docstring)."""

    def __init__(self, as_sent: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self._compiled = Compiled()
        self._as_sent = as_sent

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            defaults: Any = self
            return CompiledJSONParser(
                compiled=self._compiled, as_sent=self._as_sent, **defaults._defaults
            )
        return super().create_parser(protocol_name)
