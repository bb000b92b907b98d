"""The inputs of `smi report`: JSON lines or JSON arrays, from files, directories, S3 and stdin.

An input is a sequence of JSON values: records (objects) one after another, as `smi collect`
writes JSON lines, and arrays of records, as `smi collect -f json` writes them, in any mix. It is
decoded chunk by chunk with `json.JSONDecoder.raw_decode`, so an array is streamed like a JSON
lines file: memory holds one chunk and the record being read, never the whole input; an S3
object is streamed the same way, through an `ObjectStore` the caller hands in. Several inputs
(the outputs of sharded `smi collect` runs, or a directory or S3 prefix of them) are read in
order as one inventory; a job present in more than one of them is counted once (see
`Duplicates`).
"""

from __future__ import annotations

import codecs
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from sagemaker_inventory.output.files import TEMP_SUFFIX
from sagemaker_inventory.output.s3_url import S3Url, is_s3_url, parse_s3_url
from sagemaker_inventory.records.record import MutableRecord, Record
from sagemaker_inventory.records.timestamps import parse_timestamp_or_none
from sagemaker_inventory.snapshot.index import META_SUFFIX
from sagemaker_inventory.snapshot.journal import JOURNAL_SUFFIX
from sagemaker_inventory.snapshot.lock import LOCK_SUFFIX

REQUIRED_FIELDS = ("training_job_name", "training_job_arn")
STDIN_NAME = "<stdin>"
# A directory contributes these files; snapshot sidecars (FILE.meta.json) are not inventories.
DIRECTORY_SUFFIXES = (".jsonl", ".json")
NOT_INVENTORIES = (META_SUFFIX, JOURNAL_SUFFIX, LOCK_SUFFIX, TEMP_SUFFIX)
CHUNK_BYTES = 1 << 18
# A value still undecodable with this much text after its start is malformed, not just cut by
# the chunk boundary (a training-job record is at most a few hundred KB).
MAX_VALUE_CHARS = 16 << 20

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class InventoryError(ValueError):
    """An input that is not an inventory; `str()` is `source:line: problem` or `source: problem`."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        super().__init__(f"{source}:{line}: {problem}" if line else f"{source}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


class _Text:
    """One input's decoded text, read a chunk at a time, with line numbers for error messages."""

    def __init__(self, chunks: Iterable[bytes | str], source: str) -> None:
        self._chunks = iter(chunks)
        # utf-8-sig: a byte-order mark some editors add is not part of the first record.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.source = source
        self.buffer = ""
        self.pos = 0
        self._line = 1  # the line number of buffer[0]
        self.eof = False

    def more(self) -> bool:
        """Append the next chunk (dropping what has been read); False at the end of the input."""
        if self.eof:
            return False
        self._line += self.buffer.count("\n", 0, self.pos)
        self.buffer = self.buffer[self.pos :]
        self.pos = 0
        try:
            chunk = next(self._chunks)
            text = chunk if isinstance(chunk, str) else self._decoder.decode(chunk)
        except StopIteration:
            self.eof = True
            text = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise self.error(len(self.buffer), "not valid UTF-8") from None
        self.buffer += text
        return True

    def error(self, index: int, problem: str) -> InventoryError:
        """An InventoryError at the line of buffer[index]."""
        return InventoryError(self.source, self._line + self.buffer.count("\n", 0, index), problem)

    def next_char(self) -> str:
        """The next character that is not whitespace (not consumed); "" at the end."""
        while True:
            match = _SPACE.match(self.buffer, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self.more():
                return ""

    def value(self) -> tuple[Any, int]:
        """The JSON value at the read position and where it starts in the buffer."""
        self.next_char()  # raw_decode does not skip leading whitespace
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                # Maybe the chunk ends inside the value: read on, up to a bound.
                if len(self.buffer) - self.pos <= MAX_VALUE_CHARS and self.more():
                    continue
                raise self._decode_error(error) from None
            start, self.pos = self.pos, end
            return value, start

    def _decode_error(self, error: json.JSONDecodeError) -> InventoryError:
        """The line to blame for a value that does not decode: a value cut short by the end of
        the input, or a JSON-lines record cut short (the decoder noticed on a later line), is
        named by the line it starts on; any other error by the line the decoder stopped at."""
        if error.pos >= len(self.buffer.rstrip()):
            return self.error(self.pos, f"not valid JSON ({error.msg})")
        line_end = self.buffer.find("\n", self.pos)
        if 0 <= line_end < error.pos and self.buffer[self.pos + 1 : line_end].strip():
            # A record started on this line but did not end on it: in JSON lines, a truncated
            # line (a pretty-printed object has only its "{" on its first line).
            return self.error(
                self.pos, f"not valid JSON (the line ends inside a value: {error.msg})"
            )
        return self.error(error.pos, f"not valid JSON ({error.msg})")


def read_records(chunks: Iterable[bytes | str], source: str) -> Iterator[MutableRecord]:
    """Yield each record of an input (chunks of it, e.g. lines or `read_chunks`); raise
    InventoryError, naming `source` and the line, at the first value that is not a record."""
    text = _Text(chunks, source)
    while char := text.next_char():
        if char == "[":
            text.pos += 1
            yield from _array_records(text)
        else:
            yield _record(text)


def _array_records(text: _Text) -> Iterator[MutableRecord]:
    if text.next_char() == "]":
        text.pos += 1
        return
    while True:
        yield _record(text)
        char = text.next_char()
        if char == "]":
            text.pos += 1
            return
        if char != ",":
            found = f"found {char!r}" if char else "the input ends"
            raise text.error(
                text.pos, f"not valid JSON (expecting ',' or ']' in an array; {found})"
            )
        text.pos += 1


def _record(text: _Text) -> MutableRecord:
    value, start = text.value()
    if not isinstance(value, dict):
        raise text.error(start, "not a JSON object")
    for name in REQUIRED_FIELDS:
        if not isinstance(value.get(name), str):
            raise text.error(start, f"not a training-job record (no {name})")
    return value


class ByteStream(Protocol):
    """What an input is read through: a file, stdin's buffer, an S3 object's body."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def read_chunks(stream: ByteStream, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The stream's bytes in chunks of at most `size` (a JSON array may be one long line)."""
    while chunk := stream.read(size):
        yield chunk


class ObjectStore(Protocol):
    """Where `s3://` inputs are read: `cli/` hands one in (built on `aws/`), so that a report of
    local files only builds no client. Each method raises InventoryError naming the URL."""

    def check(self, url: S3Url) -> None:
        """The object exists and may be read."""

    def keys_in(self, prefix: S3Url) -> Iterable[S3Url]:
        """The objects directly under `prefix` (not under a further '/'), by key."""

    def open(self, url: S3Url) -> ByteStream:
        """The object's bytes, streamed (the same version each time it is opened); reading
        them raises InventoryError naming the URL too."""


@dataclass(frozen=True)
class Input:
    """One inventory to read: a file, an S3 object, or stdin (neither path nor url)."""

    path: Path | None
    name: str
    url: S3Url | None = None

    @property
    def is_stdin(self) -> bool:
        return self.path is None and self.url is None


def is_inventory_name(name: str) -> bool:
    """Whether a directory's file (a prefix's object) named `name` is read as an inventory:
    *.jsonl and *.json, but not what smi writes beside an inventory (sidecars FILE.meta.json,
    commit journals FILE.commit.json, locks FILE.lock) nor hidden names, which smi's temporary
    files (.NAME.PID.RANDOM.tmp) have."""
    return (
        name.endswith(DIRECTORY_SUFFIXES)
        and not name.endswith(NOT_INVENTORIES)
        and not name.startswith(".")
    )


def resolve_inputs(arguments: Sequence[str], store: ObjectStore | None = None) -> list[Input]:
    """Files as given, `-` as stdin, a directory as its inventory files (`is_inventory_name`,
    sorted by name, not recursive), `s3://BUCKET/KEY` as one object and `s3://BUCKET/PREFIX/`
    (or `s3://BUCKET`) as the inventory objects directly under it, like a directory. InventoryError
    names a missing file or object, an unreadable directory or prefix, one without inventory
    files, or `-` given twice; S3UrlError names a malformed S3 URL (before any AWS call)."""
    urls = {argument: parse_s3_url(argument) for argument in arguments if is_s3_url(argument)}
    inputs: list[Input] = []
    for argument in arguments:
        if argument == "-":
            if any(item.is_stdin for item in inputs):
                raise InventoryError(STDIN_NAME, None, "'-' (stdin) given more than once")
            inputs.append(Input(None, STDIN_NAME))
        elif argument in urls:
            inputs.extend(_s3_inputs(urls[argument], argument, store))
        elif (path := Path(argument)).is_dir():
            inputs.extend(_directory_inputs(path, argument))
        elif path.exists():
            inputs.append(Input(path, argument))
        else:
            raise InventoryError(argument, None, "no such file or directory")
    return inputs


def _s3_inputs(url: S3Url, argument: str, store: ObjectStore | None) -> list[Input]:
    if store is None:
        raise InventoryError(argument, None, "S3 inputs are not available here")
    if not url.is_prefix:
        store.check(url)
        return [Input(None, argument, url)]
    found = [key for key in store.keys_in(url) if is_inventory_name(key.name)]
    if not found:
        raise InventoryError(
            str(url), None, "no *.jsonl or *.json inventory object directly under this prefix"
        )
    return [Input(None, str(key), key) for key in found]


def _directory_inputs(path: Path, argument: str) -> list[Input]:
    try:
        names = sorted(
            entry.name
            for entry in path.iterdir()
            if is_inventory_name(entry.name) and entry.is_file()
        )
    except OSError as error:
        raise InventoryError(argument, None, f"cannot read directory ({error.strerror})") from None
    if not names:
        raise InventoryError(argument, None, "directory has no *.jsonl or *.json inventory file")
    return [Input(path / name, str(path / name)) for name in names]


@dataclass
class Duplicates:
    """Jobs (by training_job_arn) met more than once, and which copy counts: the one with the
    later last_modified_time, else the first one read. Copies are named (input number, ordinal)."""

    _seen: dict[str, tuple[object, int, int]] = field(default_factory=dict)
    losers: set[tuple[int, int]] = field(default_factory=set)

    def note(self, record: Record, number: int, ordinal: int) -> None:
        """Remember one record; a second copy of a job makes one of the two a loser."""
        arn = record["training_job_arn"]
        modified = record.get("last_modified_time")
        earlier = self._seen.setdefault(arn, (modified, number, ordinal))
        if earlier[1:] == (number, ordinal):
            return
        if _later(modified, earlier[0]):
            self.losers.add(earlier[1:])
            self._seen[arn] = (modified, number, ordinal)
        else:
            self.losers.add((number, ordinal))


def _later(modified: object, than: object) -> bool:
    new, old = parse_timestamp_or_none(modified), parse_timestamp_or_none(than)
    return new is not None and (old is None or new > old)


@dataclass
class Inventory:
    """The inputs of one report, readable more than once (stdin is spooled when it must be)."""

    inputs: list[Input]
    _stdin: IO[bytes]
    _rewind_stdin: bool = False
    _store: ObjectStore | None = None

    def records(
        self,
        *,
        skip: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
        duplicates: Duplicates | None = None,
    ) -> Iterator[MutableRecord]:
        """Every record of every input in order, except the copies in `skip`; each is noted in
        `duplicates` when given."""
        for number, item in enumerate(self.inputs):
            with self._open(item) as stream:
                for ordinal, record in enumerate(read_records(read_chunks(stream), item.name)):
                    if (number, ordinal) in skip:
                        continue
                    if duplicates is not None:
                        duplicates.note(record, number, ordinal)
                    yield record

    @contextmanager
    def _open(self, item: Input) -> Iterator[ByteStream]:
        if item.url is not None and self._store is not None:
            # Closed however the reading ends: the connection goes back to the pool.
            with closing(self._store.open(item.url)) as body:
                yield body
            return
        if item.path is None:
            if self._rewind_stdin:
                self._stdin.seek(0)
            yield self._stdin
            return
        try:
            stream = item.path.open("rb")
        except OSError as error:
            raise InventoryError(item.name, None, str(error.strerror or error)) from None
        with stream:
            yield stream


@contextmanager
def open_inventory(
    arguments: Sequence[str], stdin: IO[bytes], store: ObjectStore | None = None
) -> Iterator[Inventory]:
    """The inventory of these arguments (see resolve_inputs; none means stdin; `s3://` ones are
    read from `store`). With several inputs stdin is first copied to a temporary file, so that
    the inputs can be read twice."""
    inputs = resolve_inputs(arguments or ["-"], store)
    with ExitStack() as stack:
        if len(inputs) > 1 and any(item.is_stdin for item in inputs):
            spool = stack.enter_context(tempfile.TemporaryFile())
            shutil.copyfileobj(stdin, spool, CHUNK_BYTES)
            yield Inventory(inputs, spool, _rewind_stdin=True, _store=store)
        else:
            yield Inventory(inputs, stdin, _store=store)
