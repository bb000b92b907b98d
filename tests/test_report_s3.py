"""`smi report s3://…` (moto): an object reads like its file, streamed chunk by chunk; a prefix
like a directory (not recursive, the same names left out); S3 mixes with files and stdin; every
failure is exit 2 naming the URL with nothing on stdout; a local report builds no S3 client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from click.testing import Result
from conftest import running_moto_server
from report_small import REPORT_SMALL
from test_report_input import fixture_records, report_json, smi_report, write_shards

from sagemaker_inventory.aws import s3_objects
from sagemaker_inventory.aws.s3_objects import S3Objects
from sagemaker_inventory.cli.report_inputs import S3Inventories
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.report.inputs import CHUNK_BYTES, resolve_inputs

BUCKET = "smi-inventory"
BY = ("--by", "account_id", "--by", "region")


@pytest.fixture
def s3(moto_aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def upload(client: Any, directory: Path, prefix: str, bucket: str = BUCKET) -> None:
    """Every file under `directory` to `prefix`, subdirectories as deeper keys."""
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            key = prefix + path.relative_to(directory).as_posix()
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def lines_of(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_an_object_reports_like_its_file(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="inv/all.jsonl", Body=REPORT_SMALL.read_bytes())
    url = f"s3://{BUCKET}/inv/all.jsonl"
    for view in (BY, ("--failures",), ("--checks",)):
        assert report_json(url, *view) == report_json(str(REPORT_SMALL), *view)


def test_a_prefix_reports_like_the_directory_it_was_copied_from(s3: Any, tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    write_shards(shards, fixture_records(), 3)
    # What is not an inventory, and a subdirectory whose records would change the totals.
    (shards / "shard-0.jsonl.meta.json").write_text('{"scopes": {}}')
    (shards / "notes.txt").write_text("not an inventory")
    (shards / "deeper").mkdir()
    (shards / "deeper" / "more.jsonl").write_text(lines_of(fixture_records()))
    upload(s3, shards, "smi/")
    upload(s3, shards, "")  # the bucket's top level too
    s3.put_object(Bucket=BUCKET, Key="smi/folder/", Body=b"")  # a console's "folder" object
    whole = report_json(str(REPORT_SMALL), *BY)
    assert report_json(str(shards), *BY) == whole
    assert report_json(f"s3://{BUCKET}/smi/", *BY) == whole
    assert report_json(f"s3://{BUCKET}", *BY) == whole  # a bare bucket is its top-level prefix
    assert report_json(f"s3://{BUCKET}/", *BY) == whole


LEFT_OUT = [
    "inv.jsonl.meta.json",  # snapshot sidecar
    "inv.jsonl.commit.json",  # commit journal
    "inv.jsonl.lock",  # lock
    ".inv.jsonl.4242.abc123.tmp",  # smi's temporary
    ".hidden.jsonl",
    "inv.jsonl.tmp",
    "notes.txt",
    "sub/inner.jsonl",  # not recursive
]


def test_a_prefix_and_a_directory_leave_out_the_same_names(s3: Any, tmp_path: Path) -> None:
    kept = ["a.json", "b.jsonl", "shard-10.jsonl", "shard-2.jsonl"]
    for name in kept + LEFT_OUT:
        s3.put_object(Bucket=BUCKET, Key=f"p/{name}", Body=b"[]")
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("[]")
    local = [Path(i.name).name for i in resolve_inputs([str(tmp_path)])]
    remote = [i.name for i in resolve_inputs([f"s3://{BUCKET}/p/"], S3Inventories())]
    assert local == kept  # by name: shard-10 before shard-2, as S3 lists keys
    assert remote == [f"s3://{BUCKET}/p/{name}" for name in kept]


def test_s3_mixes_with_files_and_stdin(s3: Any, tmp_path: Path) -> None:
    records = fixture_records()
    s3.put_object(Bucket=BUCKET, Key="part-1.jsonl", Body=lines_of(records[:3]).encode())
    (tmp_path / "part-2.jsonl").write_text(lines_of(records[3:6]))
    args = [f"s3://{BUCKET}/part-1.jsonl", str(tmp_path / "part-2.jsonl"), "-"]
    assert report_json(*args, *BY, stdin=lines_of(records[6:])) == report_json(
        str(REPORT_SMALL), *BY
    )


def test_a_job_in_s3_and_in_a_file_counts_once_as_its_latest_copy(s3: Any, tmp_path: Path) -> None:
    records = fixture_records()
    old = dict(records[0], last_modified_time="2026-01-15T11:00:00Z", training_job_status="Failed")
    new = dict(records[0], last_modified_time="2026-01-15T11:10:00.500Z")
    s3.put_object(Bucket=BUCKET, Key="old/a.jsonl", Body=lines_of([old, *records[1:4]]).encode())
    (tmp_path / "new.jsonl").write_text(lines_of([new, *records[1:]]))
    result = smi_report(f"s3://{BUCKET}/old/", str(tmp_path / "new.jsonl"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == report_json(str(REPORT_SMALL))
    assert "4 extra copies of jobs" in result.stderr


def check_exit_2(result: Result, named: str) -> None:
    assert (result.exit_code, result.stdout) == (2, "")
    assert named in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (f"s3://{BUCKET}/absent.jsonl", f"s3://{BUCKET}/absent.jsonl: no such"),
        ("s3://no-such-bucket-here/a.jsonl", "s3://no-such-bucket-here/a.jsonl: no such"),
        ("s3://no-such-bucket-here/p/", "s3://no-such-bucket-here/p/: no such bucket"),
        (f"s3://{BUCKET}/empty/", f"s3://{BUCKET}/empty/: no *.jsonl or *.json inventory"),
        ("s3://Bad_Bucket/a.jsonl", "s3://Bad_Bucket/a.jsonl: 'Bad_Bucket' is not a valid"),
        ("s3://", "s3://: no bucket name"),
        (
            f"s3://{BUCKET}/empty",
            f"s3://{BUCKET}/empty: no such bucket or object (404); s3://{BUCKET}/empty/ is a"
            " prefix: end the URL with '/' to read it",
        ),
    ],
)
def test_a_missing_or_bad_s3_input_exits_2_naming_it(s3: Any, url: str, named: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="empty/notes.txt", Body=b"")  # only a non-inventory
    check_exit_2(smi_report(str(REPORT_SMALL), url), named)


def test_no_credentials_exits_2_naming_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    url = f"s3://{BUCKET}/a.jsonl"
    check_exit_2(smi_report(url), f"{url}: Unable to locate credentials")


def test_a_bad_url_stops_the_report_before_any_s3_call(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_objects, "s3_client", no_client)
    s3.put_object(Bucket=BUCKET, Key="a.jsonl", Body=REPORT_SMALL.read_bytes())
    result = smi_report(f"s3://{BUCKET}/a.jsonl", "s3://x/a.jsonl")
    check_exit_2(result, "s3://x/a.jsonl: 'x' is not a valid S3 bucket name")


def deny(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """The report's S3 client answers `operation` with AccessDenied (a before-call hook)."""
    made = s3_objects.s3_client

    def answer(**_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        error = {"Code": "AccessDenied", "Message": "Access Denied"}
        return AWSResponse("https://s3.invalid", 403, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    def client(*args: Any, **kwargs: Any) -> Any:
        built = made(*args, **kwargs)
        built.meta.events.register(f"before-call.s3.{operation}", answer)
        return built

    monkeypatch.setattr(s3_objects, "s3_client", client)


@pytest.mark.parametrize(
    ("operation", "url"),
    [
        ("HeadObject", f"s3://{BUCKET}/p/a.jsonl"),
        ("GetObject", f"s3://{BUCKET}/p/"),
        ("ListObjectsV2", f"s3://{BUCKET}/p/"),
    ],
)
def test_a_denied_read_exits_2_naming_the_url(
    s3: Any, monkeypatch: pytest.MonkeyPatch, operation: str, url: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="p/a.jsonl", Body=REPORT_SMALL.read_bytes())
    deny(monkeypatch, operation)
    named = url if operation != "GetObject" else f"{url}a.jsonl"
    check_exit_2(smi_report(url), f"{named}: access denied (AccessDenied)")


class Recorder:
    """An object's body that records the size of every read asked of it."""

    def __init__(self, body: IO[bytes], sizes: list[int]) -> None:
        self.body, self.sizes, self.closed = body, sizes, False

    def read(self, size: int = -1) -> bytes:
        self.sizes.append(size)
        return self.body.read(size)

    def close(self) -> None:
        self.closed = True
        self.body.close()


def test_a_large_object_is_read_chunk_by_chunk_never_whole(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = REPORT_SMALL.read_text().splitlines()[0] + "\n"
    copies = 4 * CHUNK_BYTES // len(line) + 1  # more than four chunks
    s3.put_object(Bucket=BUCKET, Key="big.jsonl", Body=(line * copies).encode())
    bodies: list[Recorder] = []
    get = S3Objects.get

    def recorded(self: S3Objects, url: S3Url, **kwargs: Any) -> tuple[Any, str]:
        body, etag = get(self, url, **kwargs)
        bodies.append(Recorder(body, []))
        return bodies[-1], etag

    monkeypatch.setattr(S3Objects, "get", recorded)
    assert report_json(f"s3://{BUCKET}/big.jsonl")["totals"]["jobs"] == copies
    [body] = bodies
    assert body.closed and set(body.sizes) == {CHUNK_BYTES}  # never read(-1)
    assert len(body.sizes) > 4


class Cut(Recorder):
    """A body whose connection is cut after its first chunk."""

    def read(self, size: int = -1) -> bytes:
        from botocore.exceptions import ResponseStreamingError

        if self.sizes:
            raise ResponseStreamingError(error="Connection broken: IncompleteRead")
        return super().read(size)


def test_a_read_cut_mid_object_exits_2_naming_it(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    line = REPORT_SMALL.read_text().splitlines()[0] + "\n"
    s3.put_object(Bucket=BUCKET, Key="big.jsonl", Body=(line * (CHUNK_BYTES // 100)).encode())
    get = S3Objects.get

    def cut(self: S3Objects, url: S3Url, **kwargs: Any) -> tuple[Any, str]:
        body, etag = get(self, url, **kwargs)
        return Cut(body, []), etag

    monkeypatch.setattr(S3Objects, "get", cut)
    url = f"s3://{BUCKET}/big.jsonl"
    check_exit_2(smi_report(url), f"{url}: An error occurred while reading from response stream")


def test_an_object_replaced_between_the_two_reads_exits_2(
    s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A job in two inputs makes the report read them twice; the second read must be the same
    # version of the object, or records would be skipped by position in another version.
    records = fixture_records()
    key, url = "a.jsonl", f"s3://{BUCKET}/a.jsonl"
    s3.put_object(Bucket=BUCKET, Key=key, Body=lines_of(records).encode())
    (tmp_path / "b.jsonl").write_text(lines_of(records[:1]))
    get, reads = S3Objects.get, []

    def replacing(self: S3Objects, target: S3Url, **kwargs: Any) -> tuple[Any, str]:
        reads.append(kwargs.get("if_match"))
        if len(reads) == 2:
            s3.put_object(Bucket=BUCKET, Key=key, Body=lines_of(records[1:]).encode())
        return get(self, target, **kwargs)

    monkeypatch.setattr(S3Objects, "get", replacing)
    check_exit_2(
        smi_report(url, str(tmp_path / "b.jsonl")), f"{url}: the object changed while the report"
    )
    assert reads[1] is not None and reads[0] == reads[1]  # the first GET pinned by HEAD's ETag


def no_client(*_: Any, **__: Any) -> Any:
    raise AssertionError("an S3 client was built")


def test_a_local_report_builds_no_client_and_needs_no_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setattr(s3_objects, "s3_client", no_client)
    assert report_json(str(REPORT_SMALL))["totals"]["jobs"] == 8
    code = (
        "import sys\n"
        "from sagemaker_inventory.cli import cli\n"
        f"try:\n    cli.main(['report', {str(REPORT_SMALL)!r}, '-f', 'json'], prog_name='smi')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('sagemaker_inventory.aws')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_profile_chooses_the_s3_credentials_and_needs_an_s3_input_or_cost(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="a.jsonl", Body=REPORT_SMALL.read_bytes())
    url = f"s3://{BUCKET}/a.jsonl"
    check_exit_2(smi_report(url, "--profile", "nobody"), f"{url}: The config profile (nobody)")
    result = smi_report(str(REPORT_SMALL), "--profile", "nobody")
    assert result.exit_code == 2 and "--profile needs --cost or an s3:// input" in result.stderr


@pytest.fixture
def server() -> Iterator[str]:
    with running_moto_server() as url:
        yield url


def test_endpoint_url_sends_the_s3_calls_there(server: str) -> None:
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=server)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="inv/a.jsonl", Body=REPORT_SMALL.read_bytes())
    url = f"s3://{BUCKET}/inv/"
    assert report_json(url, "--endpoint-url", server) == report_json(str(REPORT_SMALL))
