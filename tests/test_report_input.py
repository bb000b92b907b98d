"""`smi report`'s inputs: JSON arrays and JSON lines alike (streamed), several files, directories,
stdin among them, and jobs found in more than one input counted once."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from report_small import REPORT_SMALL

from sagemaker_inventory.cli import cli
from sagemaker_inventory.output.sinks import JsonArraySink
from sagemaker_inventory.report.inputs import (
    InventoryError,
    read_chunks,
    read_records,
    resolve_inputs,
)


def fixture_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in REPORT_SMALL.read_text().splitlines() if line.strip()]


def smi_report(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["report", *args], input=stdin, env={"COLUMNS": "120"})


def report_json(*args: str, stdin: str | None = None) -> Any:
    result = smi_report(*args, "--format", "json", stdin=stdin)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def json_array_text(records: list[dict[str, Any]]) -> str:
    """What `smi collect -f json` writes: its own sink."""
    buffer = io.StringIO()
    sink = JsonArraySink(buffer)
    for record in records:
        sink.write(record)
    sink.close()
    return buffer.getvalue()


def read_all(data: str, chunk: int) -> list[dict[str, Any]]:
    stream = io.BytesIO(data.encode())
    return list(read_records(read_chunks(stream, chunk), "in"))


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize(
    "layout",
    ["jsonl", "smi-json", "indented", "two-arrays", "mixed"],
)
def test_arrays_and_lines_give_the_same_records_at_any_chunk_size(layout: str, chunk: int) -> None:
    records = fixture_records()
    records[0] = {**records[0], "failure_reason": "naïve 🚀 café"}  # multi-byte across chunks
    half = len(records) // 2
    data = {
        "jsonl": "".join(json.dumps(r) + "\n" for r in records),
        "smi-json": json_array_text(records),
        "indented": json.dumps(records, indent=2, ensure_ascii=False),
        "two-arrays": json.dumps(records[:half]) + "\n" + json.dumps(records[half:]),
        "mixed": json.dumps(records[:half]) + "\n\n" + "\n".join(map(json.dumps, records[half:])),
    }[layout]
    assert read_all(data, chunk) == records


def test_an_empty_array_and_empty_input_have_no_records() -> None:
    assert read_all("[]\n", 4) == []
    assert read_all(" [ ] ", 1) == []
    assert read_all("", 4) == []


def test_an_array_is_streamed_record_by_record() -> None:
    # Regression: `smi report` could not read `smi collect -f json` at all; it must also not
    # load a large array at once.
    record = fixture_records()[0]
    chunks_read = 0

    def chunks() -> Iterator[bytes]:
        nonlocal chunks_read
        yield b"["
        for index in range(1000):
            chunks_read += 1
            yield (("," if index else "") + json.dumps(record)).encode()
        yield b"]"

    reader = read_records(chunks(), "big.json")
    next(reader)
    assert chunks_read <= 2
    assert sum(1 for _ in reader) == 999


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('[{"training_job_name": "a", "training_job_arn": "x"}', ":1: not valid JSON (expecting"),
        ('[\n{"training_job_name": "a", "training_job_arn": "x"}\n{"a": 1}]', ":3: not valid JSON"),
        ('[\n  {"training_job_name": "a", "training_job_arn": "x"},\n  [1]\n]', ":3: not a JSON"),
        (
            '[\n  {"training_job_name": "a"}\n]',
            ":2: not a training-job record (no training_job_arn)",
        ),
        ('{"training_job_name": "a", "training_job_arn": "x"}\n{"oops\n', ":2: not valid JSON"),
        ("[1, 2]", ":1: not a JSON object"),
    ],
)
def test_bad_input_names_the_line(data: str, problem: str) -> None:
    for chunk in (1, 1 << 20):
        with pytest.raises(InventoryError) as caught:
            read_all(data, chunk)
        assert str(caught.value).startswith("in" + problem)


def test_report_reads_what_collect_json_writes(tmp_path: Path) -> None:
    array = tmp_path / "inventory.json"
    array.write_text(json_array_text(fixture_records()))
    assert report_json(str(array), "--by", "instance_type") == report_json(
        str(REPORT_SMALL), "--by", "instance_type"
    )
    assert report_json("--failures", stdin=array.read_text()) == report_json(
        str(REPORT_SMALL), "--failures"
    )


def write_shards(directory: Path, records: list[dict[str, Any]], shards: int) -> None:
    directory.mkdir(exist_ok=True)
    for index in range(shards):
        part = records[index::shards]
        name = directory / f"shard-{index}.{'json' if index % 2 else 'jsonl'}"
        if index % 2:
            name.write_text(json_array_text(part))
        else:
            name.write_text("".join(json.dumps(r) + "\n" for r in part))


def test_shards_in_a_directory_report_as_one_inventory(tmp_path: Path) -> None:
    write_shards(tmp_path / "out", fixture_records(), 3)
    # Files smi writes beside an inventory that are not records are not read.
    (tmp_path / "out" / "shard-0.jsonl.meta.json").write_text('{"scopes": {}}')
    (tmp_path / "out" / "notes.txt").write_text("not an inventory")
    whole = report_json(str(REPORT_SMALL), "--by", "account_id", "--by", "region")
    assert report_json(str(tmp_path / "out"), "--by", "account_id", "--by", "region") == whole
    files = [str(tmp_path / "out" / name) for name in ("shard-0.jsonl", "shard-1.json")]
    files.append(str(tmp_path / "out" / "shard-2.jsonl"))
    assert report_json(*files, "--by", "account_id", "--by", "region") == whole


def test_directory_files_are_read_in_name_order(tmp_path: Path) -> None:
    for name in ("b.json", "a.jsonl", "c.jsonl"):
        (tmp_path / name).write_text("[]")
    assert [i.name for i in resolve_inputs([str(tmp_path)])] == [
        str(tmp_path / name) for name in ("a.jsonl", "b.json", "c.jsonl")
    ]


def test_stdin_joins_the_files(tmp_path: Path) -> None:
    records = fixture_records()
    (tmp_path / "first.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:3]))
    rest = json_array_text(records[3:])
    assert report_json(str(tmp_path / "first.jsonl"), "-", stdin=rest) == report_json(
        str(REPORT_SMALL)
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: str(tmp / "absent.jsonl"), "absent.jsonl: no such file or directory"),
        (str, "directory has no *.jsonl or *.json inventory file"),
        (lambda tmp: "-", "'-' (stdin) given more than once"),
    ],
)
def test_missing_inputs_exit_2_naming_them(tmp_path: Path, make: Any, message: str) -> None:
    (tmp_path / "readme.txt").write_text("")
    first = make(tmp_path)
    args = [str(REPORT_SMALL), first] + (["-"] if first == "-" else [])
    result = smi_report(*args, stdin="")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_an_unreadable_directory_exits_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = smi_report(str(locked))
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2
    assert "locked: cannot read directory" in result.stderr


def test_a_job_in_two_inputs_counts_once_as_its_latest_copy(tmp_path: Path) -> None:
    records = fixture_records()
    old = dict(records[0], last_modified_time="2026-01-15T11:00:00Z", training_job_status="Failed")
    new = dict(records[0], last_modified_time="2026-01-15T11:10:00.500Z")
    # The newer copy comes first, and the same file overlaps another: each job still counts once.
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [new, *records[1:]]))
    (tmp_path / "b.json").write_text(json_array_text([old, *records[1:4]]))
    result = smi_report(str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == report_json(str(REPORT_SMALL))
    assert "4 extra copies of jobs" in result.stderr
    # The older copy loses whichever input it is in.
    (tmp_path / "a.jsonl").write_text(json.dumps(old) + "\n")
    (tmp_path / "b.json").write_text(json_array_text([new, *records[1:]]))
    assert report_json(str(tmp_path)) == report_json(str(REPORT_SMALL))


def test_a_single_input_is_not_checked_for_copies() -> None:
    # One `smi collect` output has each job once; checking would cost memory per job.
    line = REPORT_SMALL.read_text().splitlines()[0] + "\n"
    assert report_json("-", stdin=line * 2)["totals"]["jobs"] == 2
