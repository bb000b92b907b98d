"""Issue 22: `smi collect` writes -o, --snapshot, --changes and --report to S3 (moto in-process)
with the promises of a local disk: objects appear only when the run commits, the snapshot's set
together; a failed run leaves every object as it was; S3 problems are named before collecting."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs, delete_job, set_job

from sagemaker_inventory.cli import cli

pytestmark = pytest.mark.usefixtures("moto_aws")

BUCKET = "smi-state"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def read(key: str) -> bytes:
    body: bytes = s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def lines(key: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read(key).decode().splitlines()]


def keys() -> list[str]:
    return [o["Key"] for o in s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def uploads() -> list[str]:
    return [u["Key"] for u in s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


@pytest.fixture
def east(moto_aws: None) -> None:
    create_jobs("us-east-1", ["a", "b", "c"], tags={"team": "ml"})
    s3().create_bucket(Bucket=BUCKET)


SNAP = f"s3://{BUCKET}/state/inv.jsonl"
DELTA = f"s3://{BUCKET}/state/delta.jsonl"


@pytest.mark.usefixtures("east")
def test_a_snapshot_in_s3_is_refreshed_incrementally_with_its_changes() -> None:
    first = run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--changes", DELTA)
    assert first.exit_code == 0, first.stderr
    assert "3 added, 0 changed, 0 removed; 0 reused" in first.stderr
    assert [c["op"] for c in lines("state/delta.jsonl")] == ["added"] * 3
    assert sorted(keys()) == ["state/delta.jsonl", "state/inv.jsonl", "state/inv.jsonl.meta.json"]
    assert uploads() == []
    before = read("state/inv.jsonl")
    set_job("us-east-1", "b", status="Failed")
    delete_job("us-east-1", "c")
    second = run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--changes", DELTA)
    assert second.exit_code == 0, second.stderr
    assert "0 added, 1 changed, 1 removed; 1 reused" in second.stderr
    assert [(c["op"], c["record"]["training_job_name"]) for c in lines("state/delta.jsonl")] == [
        ("changed", "b"),
        ("removed", "c"),
    ]
    assert read("state/inv.jsonl") != before
    assert len(lines("state/inv.jsonl")) == 2


@pytest.mark.usefixtures("east")
def test_output_and_report_objects() -> None:
    result = run(
        "collect", "-r", "us-east-1", "-o", f"s3://{BUCKET}/out/inv.csv",
        "--report", f"s3://{BUCKET}/out/run.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = read("out/inv.csv").decode().splitlines()
    assert len(rows) == 4 and "training_job_name" in rows[0].split(",")  # CSV, from the suffix
    report = json.loads(read("out/run.json"))
    assert report["exit_code"] == 0 and report["totals"]["jobs"] == 3
    assert uploads() == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["-o", "s3://smi-state/inventories/"], "names a prefix"),
        (["--snapshot", "s3://Bad_Bucket/inv.jsonl"], "'Bad_Bucket' is not a valid S3 bucket"),
        (["--snapshot", SNAP, "--changes", "s3://other-bucket/d.jsonl"], "not in the snapshot's"),
        (["--snapshot", SNAP, "--changes", "delta.jsonl"], "both must be local files or both S3"),
        (["--snapshot", "inv.jsonl", "--changes", DELTA], "both must be local files or both S3"),
        (["-o", "out.jsonl", "--sse-kms-key-id", "alias/smi"], "--sse-kms-key-id encrypts"),
        (["-o", "s3://smi-state/x.yaml"], "'.yaml' is not a suffix smi writes"),
        (["--snapshot", SNAP, "--changes", SNAP], "name the same file"),
        (["--report", f"s3://{BUCKET}/state/inv.jsonl.lock", "--snapshot", SNAP], "the same file"),
    ],
)
def test_s3_options_are_checked_before_any_call(
    args: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("collect", "-r", "us-east-1", *args)
    assert result.exit_code == 2, result.stderr
    assert named in result.stderr and result.stdout == ""


def test_the_demo_writes_no_s3_object() -> None:
    result = run("collect", "--demo", "-o", f"s3://{BUCKET}/demo.jsonl")
    assert result.exit_code == 2
    assert "--demo" in result.stderr and f"s3://{BUCKET}/demo.jsonl" in result.stderr


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize("option", ["-o", "--report", "--snapshot"])
def test_a_missing_bucket_is_named_before_collecting(option: str) -> None:
    url = "s3://no-such-bucket-here/inv.jsonl"
    result = run("collect", "-r", "us-east-1", option, url)
    assert result.exit_code == 2, result.stderr
    assert f"{url}" in result.stderr and "no such bucket (NoSuchBucket)" in result.stderr
    assert "nothing was collected" in result.stderr and result.stdout == ""


class _Answer:
    """What a before-call handler hands botocore in place of S3's HTTP answer."""

    def __init__(self, status: int) -> None:
        self.status_code, self.headers, self.content = status, {}, b""


def denier(path_ends: str) -> Any:
    """A before-call handler answering AccessDenied for requests whose path ends so."""

    def denied(params: dict[str, Any], **kwargs: Any) -> tuple[_Answer, dict[str, Any]] | None:
        if not params["url_path"].split("?")[0].endswith(path_ends):
            return None
        error = {"Code": "AccessDenied", "Message": "Access Denied"}
        return _Answer(403), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    return denied


@pytest.fixture
def run_clients(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str | None, str]]:
    """Every S3 client the run makes, with the profile and access key it was made from."""
    from sagemaker_inventory.aws import s3_objects

    made: list[tuple[Any, str | None, str]] = []
    original = s3_objects.s3_client

    def recorded(factory: Any, profile: str | None = None) -> Any:
        client = original(factory, profile)
        key = factory.session(profile).get_credentials().access_key
        made.append((client, profile, key))
        return client

    monkeypatch.setattr(s3_objects, "s3_client", recorded)
    return made


def deny_on_run_clients(
    monkeypatch: pytest.MonkeyPatch, operation: str, path_ends: str = ""
) -> None:
    from sagemaker_inventory.aws import s3_objects

    original = s3_objects.s3_client

    def denying(factory: Any, profile: str | None = None) -> Any:
        client = original(factory, profile)
        client.meta.events.register(f"before-call.s3.{operation}", denier(path_ends))
        return client

    monkeypatch.setattr(s3_objects, "s3_client", denying)


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize(
    ("option", "operation"),
    [
        ("-o", "CreateMultipartUpload"),
        ("--report", "CreateMultipartUpload"),
        ("--snapshot", "PutObject"),
    ],
)
def test_a_denied_write_is_named_before_collecting(
    option: str, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny_on_run_clients(monkeypatch, operation)
    url = f"s3://{BUCKET}/out/inv.jsonl"
    result = run("collect", "-r", "us-east-1", option, url)
    assert result.exit_code == 2, result.stderr
    assert url in result.stderr and "access denied (AccessDenied)" in result.stderr
    assert keys() == [] and uploads() == []


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize(
    ("operation", "snapshot"),
    [("UploadPart", True), ("PutObject", True), ("CompleteMultipartUpload", False)],
)
def test_a_write_failing_mid_run_leaves_every_object_as_it_was(
    operation: str, snapshot: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part, the journal (PutObject: the lock's renewal is the lock client's) or the completion
    of -o refused: exit 5, and no object changed (past its journal, a snapshot's set is the
    next run's to complete: see test_s3_commit_crash)."""
    args = ["-o", f"s3://{BUCKET}/out/inv.jsonl", "--report", f"s3://{BUCKET}/out/run.json"]
    args += ["--snapshot", SNAP, "--changes", DELTA] if snapshot else []
    assert run("collect", "-r", "us-east-1", *args).exit_code == 0
    before = {key: read(key) for key in keys()}
    set_job("us-east-1", "b", status="Failed")
    deny_on_run_clients(monkeypatch, operation, ".commit.json" if operation == "PutObject" else "")
    result = run("collect", "-r", "us-east-1", *args)
    assert result.exit_code == 5, result.stderr
    assert "smi: error: cannot write s3://smi-state/" in result.stderr
    assert {key: read(key) for key in keys()} == before


@pytest.mark.usefixtures("east")
def test_a_second_run_on_a_locked_s3_snapshot_exits_4_and_changes_nothing() -> None:
    from sagemaker_inventory.aws.s3_lock import s3_snapshot_lock
    from sagemaker_inventory.output.s3_url import parse_s3_object

    assert run("collect", "-r", "us-east-1", "--snapshot", SNAP).exit_code == 0
    before = read("state/inv.jsonl")
    set_job("us-east-1", "b", status="Failed")
    with s3_snapshot_lock(s3(), parse_s3_object(SNAP)):
        result = run("collect", "-r", "us-east-1", "--snapshot", SNAP)
    assert result.exit_code == 4, result.stderr
    assert result.stderr.startswith(f"smi: {SNAP} is in use by another smi run")
    assert read("state/inv.jsonl") == before


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize("key_id", [None, "alias/smi-state"])
def test_every_object_smi_writes_gets_the_kms_key_or_the_buckets_default(
    key_id: str | None, run_clients: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagemaker_inventory.aws import s3_objects

    writes: list[tuple[str, dict[str, Any]]] = []
    recorded = s3_objects.s3_client

    def watched(factory: Any, profile: str | None = None) -> Any:
        client = recorded(factory, profile)
        _register_write_recorder(client, writes)
        return client

    monkeypatch.setattr(s3_objects, "s3_client", watched)
    args = ["-o", f"s3://{BUCKET}/out/inv.jsonl", "--report", f"s3://{BUCKET}/out/run.json"]
    args += ["--snapshot", SNAP, "--changes", DELTA]
    args += ["--sse-kms-key-id", key_id] if key_id else []
    assert run("collect", "-r", "us-east-1", *args).exit_code == 0
    operations = sorted({name for name, _ in writes})
    assert operations == ["CreateMultipartUpload", "PutObject"]  # uploads; lock and journal
    expected = (
        {"x-amz-server-side-encryption": "aws:kms",
         "x-amz-server-side-encryption-aws-kms-key-id": key_id}
        if key_id else {}
    )  # fmt: skip
    assert all(sse == expected for _, sse in writes), writes


def _register_write_recorder(client: Any, writes: list[tuple[str, dict[str, Any]]]) -> None:
    def record(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if model.name in ("PutObject", "CreateMultipartUpload"):
            headers = params["headers"]
            sse = {k: v for k, v in headers.items() if k.lower().startswith("x-amz-server-side")}
            writes.append((model.name, sse))

    client.meta.events.register("before-call.s3", record)


@pytest.mark.usefixtures("east")
def test_s3_is_written_with_the_base_credentials_never_a_member_accounts_role(
    run_clients: list[tuple[Any, str | None, str]],
) -> None:
    role = "arn:aws:iam::210987654321:role/Inventory"
    result = run("collect", "-r", "us-east-1", "--role-arn", role, "-o", f"s3://{BUCKET}/o.jsonl")
    assert result.exit_code == 0, result.stderr
    base_key = os.environ["AWS_ACCESS_KEY_ID"]  # the default chain's, not the role's
    assert {(profile, key) for _, profile, key in run_clients} == {(None, base_key)}


@pytest.mark.usefixtures("east")
def test_with_several_profiles_s3_uses_the_first(
    run_clients: list[tuple[Any, str | None, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile first]\nregion = us-east-1\naws_access_key_id = first-key\n"
        "aws_secret_access_key = x\n[profile second]\nregion = us-east-1\n"
        "aws_access_key_id = second-key\naws_secret_access_key = y\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    args = ["--profile", "first", "--profile", "second", "-o", f"s3://{BUCKET}/o.jsonl"]
    result = run("collect", "-r", "us-east-1", *args)
    assert result.exit_code == 0, result.stderr
    assert {(profile, key) for _, profile, key in run_clients} == {("first", "first-key")}


@pytest.mark.usefixtures("east")
def test_an_s3_report_carries_what_a_local_report_carries(tmp_path: Path) -> None:
    local = tmp_path / "run.json"
    assert (
        run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--report", str(local)).exit_code == 0
    )
    s3_report = f"s3://{BUCKET}/run.json"
    assert (
        run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--report", s3_report).exit_code == 0
    )
    written, remote = json.loads(local.read_text()), json.loads(read("run.json"))
    assert sorted(remote) == sorted(written)
    assert sorted(remote["snapshot"]) == sorted(written["snapshot"])
    assert remote["snapshot"]["reused"] == 3 and remote["totals"]["jobs"] == 3


def test_an_unwritable_temporary_directory_is_named_before_collecting(
    east: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing"))  # as TMPDIR would
    result = run("collect", "-r", "us-east-1", "--snapshot", SNAP)
    assert result.exit_code == 2, result.stderr
    assert f"{SNAP}: no writable temporary directory" in result.stderr
    assert keys() == []


@pytest.mark.usefixtures("east")
def test_without_list_uploads_permission_stale_uploads_are_left_to_the_lifecycle_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3().create_multipart_upload(Bucket=BUCKET, Key="state/inv.jsonl")  # a killed run's
    deny_on_run_clients(monkeypatch, "ListMultipartUploads")
    result = run("collect", "-r", "us-east-1", "--snapshot", SNAP)
    assert result.exit_code == 0, result.stderr
    assert "left to the lifecycle rule" in result.stderr
    assert uploads() == ["state/inv.jsonl"] and len(lines("state/inv.jsonl")) == 3


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_every_format_writes_to_an_s3_object(fmt: str) -> None:
    result = run("collect", "-r", "us-east-1", "-f", fmt, "-o", f"s3://{BUCKET}/out/inv")
    assert result.exit_code == 0, result.stderr
    text = read("out/inv").decode()
    if fmt == "json":
        assert sorted(r["training_job_name"] for r in json.loads(text)) == ["a", "b", "c"]
    elif fmt == "jsonl":
        names = sorted(json.loads(line)["training_job_name"] for line in text.splitlines())
        assert names == ["a", "b", "c"]
    elif fmt == "csv":
        assert len(text.splitlines()) == 4 and "training_job_name" in text.splitlines()[0]
    else:
        assert "ml.m5.large" in text and "Completed" in text  # a rendered table


@pytest.mark.usefixtures("east")
def test_a_journal_naming_another_changes_object_is_exit_2_and_touches_nothing() -> None:
    """After a crash, a run with another --changes must not complete (or drop) that commit."""
    assert run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--changes", DELTA).exit_code == 0
    journal = {
        "format": 1,
        "bucket": BUCKET,
        "uploads": [
            {
                "key": "state/delta.jsonl",
                "upload_id": "u1",
                "parts": [{"PartNumber": 1, "ETag": "e"}],
            }
        ],
    }
    s3().put_object(Bucket=BUCKET, Key="state/inv.jsonl.commit.json", Body=json.dumps(journal))
    before = {key: read(key) for key in keys()}
    other = f"s3://{BUCKET}/state/other.jsonl"
    result = run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--changes", other)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(
        f"smi: error: {SNAP}.commit.json: refused: 'state/delta.jsonl' is not the snapshot"
    )
    assert {key: read(key) for key in keys()} == before  # the lock released too
