"""The lock of an S3 snapshot (FILE.lock, S3 conditional writes): one run at a time, a dead
holder's lock expires by S3's clock and is taken over by one run only, a live holder keeps it
renewed, and a run that lost it cannot pass `check()`.

moto in-process sends no Date header; `S3Clock` adds one to every answer, as S3 does, and can set
S3's clock apart from the local one (its Date and LastModified alike); `age_lock` makes the lock
object older, as a lock written by a run that died a while ago."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any

import pytest
from conftest import running_moto_server

from sagemaker_inventory.aws import s3_lock_object
from sagemaker_inventory.aws.retry_waits import RunStop
from sagemaker_inventory.aws.s3_lock import (
    LOCK_EXPIRY_SECONDS,
    LOCK_SUFFIX,
    S3LockHeld,
    S3LockLost,
    s3_snapshot_lock,
)
from sagemaker_inventory.aws.s3_lock_object import LockHolder
from sagemaker_inventory.aws.s3_objects import S3Error, s3_client
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
from sagemaker_inventory.output.s3_url import S3Url

BUCKET = "smi-state"
SNAPSHOT = S3Url(BUCKET, "nightly/inventory.jsonl")
LOCK_KEY = SNAPSHOT.key + LOCK_SUFFIX
LOCK_URL = f"s3://{BUCKET}/{LOCK_KEY}"
PAST_EXPIRY = LOCK_EXPIRY_SECONDS + 5  # seconds: a lock not renewed for this long has expired
WAIT = 60.0  # seconds: a generous bound on waiting for an event, never a measured duration


class S3Clock:
    """S3's clock as its answers show it (Date, LastModified): the local clock plus `offset`."""

    def __init__(self) -> None:
        self.offset = 0.0

    def stamp(self, parsed: dict[str, Any], **_: Any) -> None:
        headers = parsed.setdefault("ResponseMetadata", {}).setdefault("HTTPHeaders", {})
        headers["date"] = formatdate(time.time() + self.offset, usegmt=True)
        if "LastModified" in parsed:
            parsed["LastModified"] += timedelta(seconds=self.offset)


def age_lock(seconds: float) -> None:
    """Make the lock object `seconds` older in moto's store (as if written that long ago)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    stored = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[BUCKET].keys[LOCK_KEY]
    stored.last_modified -= timedelta(seconds=seconds)


@pytest.fixture
def s3_clock() -> S3Clock:
    return S3Clock()


@pytest.fixture
def client(moto_aws: None, s3_clock: S3Clock) -> Any:
    made = s3_client(SessionFactory())
    made.meta.events.register("after-call.s3", s3_clock.stamp)
    made.create_bucket(Bucket=BUCKET)
    return made


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 applies a conditional write atomically; moto checks the condition and then writes, so
    two racing threads could both pass its check. The racing tests make moto atomic, like S3."""
    from moto.s3.responses import S3Response

    guard = threading.Lock()
    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with guard:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(S3Response, name, atomic)


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The package's warnings, captured even after a CLI test stopped their propagation."""
    package = logging.getLogger("sagemaker_inventory")
    package.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="sagemaker_inventory"):
            yield caplog
    finally:
        package.removeHandler(caplog.handler)


def lock_body(client: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        client.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read()
    )
    return document


def lock_exists(client: Any) -> bool:
    return bool(client.list_objects_v2(Bucket=BUCKET, Prefix=LOCK_KEY).get("KeyCount"))


def dead_holder_lock(client: Any, expiry: float = LOCK_EXPIRY_SECONDS) -> None:
    """The lock object of a run killed outright: written once, never renewed nor removed."""
    holder = LockHolder("gone-host", 4242, "dead-run", datetime.now(timezone.utc), 1, expiry)
    client.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=holder.to_body(datetime.now(timezone.utc)))


def lock_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("smi lock ") and t.is_alive()]


def wait_for(condition: Callable[[], bool]) -> bool:
    """Whether `condition` came true within WAIT seconds (polled)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_two_runs_in_sequence_each_take_the_lock_and_leave_none(client: Any) -> None:
    for _ in range(2):
        with s3_snapshot_lock(client, SNAPSHOT) as lock:
            assert lock_body(client)["run"] == lock.holder.run
            lock.check()
        assert not lock_exists(client)
    assert not lock_threads()


def test_a_second_run_is_refused_with_the_holder_named(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        with pytest.raises(S3LockHeld) as caught, s3_snapshot_lock(client, SNAPSHOT):
            pytest.fail("a second run proceeded")
        message = str(caught.value)
        assert message.startswith(f"s3://{BUCKET}/{SNAPSHOT.key} is in use by another smi run (")
        assert f"(host {lock.holder.host}, pid {lock.holder.pid}, since 20" in message
        assert ", until 20" in message and f"(lock {LOCK_URL};" in message
        assert "\n" not in message and "S3Lock" not in message
        lock.check()  # the refused run left the holder's lock alone
    assert not lock_exists(client)


def test_of_runs_racing_for_a_free_lock_exactly_one_proceeds(
    client: Any, atomic_moto: None
) -> None:
    outcomes = race(client, contenders=4)
    assert sorted(outcomes) == ["held", "held", "held", "won"]
    assert not lock_exists(client)


def race(client: Any, contenders: int) -> list[str]:
    """Each contender tries the lock at the same moment; a winner holds it until all have tried."""
    start, outcomes, changed = threading.Barrier(contenders), [], threading.Condition()

    def tried(outcome: str) -> None:
        with changed:
            outcomes.append(outcome)
            changed.notify_all()

    def contend() -> None:
        start.wait(WAIT)
        try:
            with s3_snapshot_lock(client, SNAPSHOT):
                tried("won")
                with changed:
                    changed.wait_for(lambda: len(outcomes) == contenders, WAIT)
        except S3LockHeld:
            tried("held")

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    return outcomes


# S3's clock against the local one: far ahead, far behind, the same. Only S3's decides.
SKEWS = [0.0, 7200.0, -7200.0]


@pytest.mark.parametrize("skew", SKEWS)
def test_a_dead_holders_lock_is_taken_over_once_past_its_expiry_by_s3s_clock(
    client: Any, s3_clock: S3Clock, skew: float
) -> None:
    s3_clock.offset = skew
    dead_holder_lock(client)
    age_lock(PAST_EXPIRY)
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        assert lock_body(client)["run"] == lock.holder.run
        lock.check()
    assert not lock_exists(client)


@pytest.mark.parametrize("skew", SKEWS)
def test_a_lock_within_its_expiry_by_s3s_clock_is_held(
    client: Any, s3_clock: S3Clock, skew: float
) -> None:
    s3_clock.offset = skew
    dead_holder_lock(client)
    age_lock(LOCK_EXPIRY_SECONDS - 60)
    with pytest.raises(S3LockHeld, match=r"host gone-host, pid 4242"):
        s3_snapshot_lock(client, SNAPSHOT).__enter__()


def test_the_holders_own_clock_does_not_decide(client: Any) -> None:
    # The body says it was acquired, renewed and expired in 2001 (the holder's clock is far
    # behind): S3 wrote it just now, so it is live.
    long_ago = datetime(2001, 1, 1, tzinfo=timezone.utc)
    holder = LockHolder("skewed", 7, "skewed-run", long_ago, 1, 60)
    client.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=holder.to_body(long_ago))
    with pytest.raises(
        S3LockHeld, match=r"host skewed, pid 7, since 2001-01-01T00:00:00Z, until 20"
    ):
        s3_snapshot_lock(client, SNAPSHOT).__enter__()


def test_a_lock_promising_a_short_expiry_expires_by_it(client: Any) -> None:
    dead_holder_lock(client, expiry=30)
    age_lock(32)  # past 30 s and the second S3's timestamps are rounded to
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        assert lock_body(client)["run"] == lock.holder.run


def test_of_runs_racing_to_take_over_a_dead_lock_exactly_one_proceeds(
    client: Any, atomic_moto: None
) -> None:
    dead_holder_lock(client)
    age_lock(PAST_EXPIRY)
    outcomes = race(client, contenders=4)
    assert sorted(outcomes) == ["held", "held", "held", "won"]
    assert not lock_exists(client)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"locked by the ops team",
        b"\xff\xfe" * 5000,
        b"[" * 4000,
        json.dumps({"format": "smi-snapshot-lock/1", "host": "h"}).encode(),
        json.dumps(
            {
                "format": "smi-snapshot-lock/1",
                "host": "h",
                "pid": 1,
                "run": "r",
                "acquired": "2026-01-01T00:00:00Z",
                "sequence": 1,
                "expiry_seconds": 1e300,
            }
        ).encode(),
    ],
    ids=["empty", "text", "binary", "deep", "partial", "endless-expiry"],
)
def test_a_lock_object_that_is_not_smis_is_held_until_it_expires(
    client: Any, s3_clock: S3Clock, body: bytes
) -> None:
    client.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=body)
    with pytest.raises(
        S3LockHeld, match=r"in use by another writer \(the lock object is not smi's; until 20"
    ):
        s3_snapshot_lock(client, SNAPSHOT).__enter__()
    age_lock(PAST_EXPIRY)
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        lock.check()
    assert not lock_exists(client)


def test_renewals_keep_a_long_runs_lock_alive(client: Any, s3_clock: S3Clock) -> None:
    with s3_snapshot_lock(client, SNAPSHOT, expiry=4) as lock:
        assert wait_for(lambda: lock_body(client)["sequence"] >= 4)  # 3 renewals: past its expiry
        with pytest.raises(S3LockHeld):
            s3_snapshot_lock(client, SNAPSHOT).__enter__()
        lock.check()
        assert lock_body(client)["run"] == lock.holder.run
    assert not lock_exists(client)
    assert not lock_threads()


def test_a_lock_taken_over_is_lost_and_the_new_holders_lock_stays(
    client: Any, s3_clock: S3Clock
) -> None:
    with s3_snapshot_lock(client, SNAPSHOT) as first:
        age_lock(PAST_EXPIRY)  # as if the first run had stalled past its expiry
        with s3_snapshot_lock(client, SNAPSHOT) as second:
            with pytest.raises(S3LockLost) as caught:
                first.check()
            message = str(caught.value)
            assert message.startswith(
                f"s3://{BUCKET}/{SNAPSHOT.key}: this run lost its lock {LOCK_URL}: it was taken "
                f"over by another smi run (host {second.holder.host}, pid {second.holder.pid}, "
            )
            assert message.endswith("); refusing to write the snapshot")
            first.release()  # the first run ends: the second's lock stays
            assert lock_body(client)["run"] == second.holder.run
            second.check()
        assert not lock_exists(client)


def test_a_lock_removed_by_someone_else_is_lost(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        client.delete_object(Bucket=BUCKET, Key=LOCK_KEY)
        with pytest.raises(S3LockLost, match=r"it was removed by someone else; refusing"):
            lock.check()
        with pytest.raises(S3LockLost):
            lock.check()  # lost stays lost


def answer_error(client: Any, operation: str, code: str, status: int, times: int = 1) -> list[int]:
    """Make S3 answer `operation` with the error `code` (`times` times), as a before-call
    handler may: the call goes no further, botocore raises its ClientError as for S3's answer.
    Returns how many such answers are left to give."""
    left = [times]

    def refuse(**_: Any) -> Any:
        if left[0] <= 0:
            return None
        left[0] -= 1
        error = {
            "Error": {"Code": code, "Message": code},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return FakeHttpAnswer(status), error

    client.meta.events.register(f"before-call.s3.{operation}", refuse)
    return left


class FakeHttpAnswer:
    def __init__(self, status: int) -> None:
        self.status_code, self.headers, self.content = status, {}, b""


@pytest.mark.parametrize("operation", ["PutObject", "GetObject"])
def test_a_denied_lock_fails_naming_the_lock_url(client: Any, operation: str) -> None:
    if operation == "GetObject":
        dead_holder_lock(client)  # the put fails on its condition, then the read is denied
    answer_error(client, operation, "AccessDenied", 403)
    with pytest.raises(S3Error) as caught, s3_snapshot_lock(client, SNAPSHOT):
        pytest.fail("a denied run proceeded")
    assert str(caught.value) == f"{LOCK_URL}: access denied (AccessDenied)"


def test_a_missing_bucket_fails_naming_the_lock_url(client: Any) -> None:
    with pytest.raises(S3Error) as caught, s3_snapshot_lock(client, S3Url("no-bucket-here", "x")):
        pytest.fail("a run without its bucket proceeded")
    assert str(caught.value) == "s3://no-bucket-here/x.lock: no such bucket (NoSuchBucket)"


def test_a_conflict_between_concurrent_writes_is_tried_again(client: Any) -> None:
    answer_error(client, "PutObject", "ConditionalRequestConflict", 409)
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        answer_error(client, "PutObject", "ConditionalRequestConflict", 409)
        lock.check()
        assert lock_body(client)["run"] == lock.holder.run
    assert not lock_exists(client)


def lose_answers(client: Any, operation: str, times: int = 1) -> list[int]:
    """After moto has carried out `operation`, drop its answer `times` times, as a connection
    that closes before the answer arrives: botocore sends the request again. Returns the count."""
    from botocore.exceptions import ConnectionClosedError

    lost = [0]

    def drop(request: Any, event_name: str, **_: Any) -> None:
        if event_name.endswith(f".{operation}") and lost[0] < times:
            lost[0] += 1
            raise ConnectionClosedError(endpoint_url=request.url)

    # botocore calls the handlers of "before-send.s3.PutObject" before those of "before-send",
    # moto's among them: registered last on "before-send", this one runs after moto's.
    client.meta.events.register_last("before-send", drop)
    return lost


def test_a_lock_whose_answers_were_lost_is_still_ours(client: Any) -> None:
    dropped = lose_answers(client, "PutObject")  # the lock is written; its answer never comes
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        assert dropped == [1]
        dropped = lose_answers(client, "PutObject")  # the same for the renewal
        lock.check()
        assert dropped == [1]
        assert lock_body(client)["run"] == lock.holder.run
        lock.check()
    assert not lock_exists(client)


def test_the_renewals_see_a_lock_taken_over_and_stop(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT, expiry=3) as lock:
        client.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=b"mine now")
        assert wait_for(lambda: not lock_threads())
        with pytest.raises(S3LockLost, match=r"it was taken over by another writer"):
            lock.check()
    assert client.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read() == b"mine now"


def test_failed_renewals_do_not_lose_a_lock_nobody_took(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT, expiry=3) as lock:
        # Renewals, refused 12 times at least a ninth of the expiry apart: for longer than it.
        left = answer_error(client, "PutObject", "AccessDenied", 403, times=12)
        assert wait_for(lambda: left == [0])
        lock.check()
        assert lock_body(client)["run"] == lock.holder.run
    assert not lock_exists(client)


def test_a_check_that_cannot_renew_refuses_the_commit(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        answer_error(client, "PutObject", "AccessDenied", 403)
        with pytest.raises(S3LockLost) as caught:
            lock.check()
        assert str(caught.value) == (
            f"s3://{BUCKET}/{SNAPSHOT.key}: this run could not renew its lock {LOCK_URL} "
            "(access denied (AccessDenied)), so it cannot tell whether it still holds it; "
            "refusing to write the snapshot"
        )
        lock.check()  # S3 answers again and nobody took the lock: it is still ours
    assert not lock_exists(client)


def test_a_stop_ends_the_renewals(client: Any) -> None:
    stop = RunStop()
    with s3_snapshot_lock(client, SNAPSHOT, stop=stop) as lock:
        assert lock_threads()
        stop.event.set()
        assert wait_for(lambda: not lock_threads())
        lock.check()  # the stop ends renewals, not the lock
    assert not lock_exists(client)


def test_no_renewal_thread_outlives_its_block(client: Any) -> None:
    with pytest.raises(ZeroDivisionError), s3_snapshot_lock(client, SNAPSHOT):
        assert all(thread.daemon for thread in lock_threads())
        _ = 1 / 0
    assert not lock_threads()
    assert not lock_exists(client)


def test_a_release_that_fails_leaves_the_lock_to_expire(
    client: Any, warnings_logged: pytest.LogCaptureFixture
) -> None:
    with s3_snapshot_lock(client, SNAPSHOT):
        answer_error(client, "DeleteObject", "AccessDenied", 403)
    assert lock_exists(client)
    assert f"{LOCK_URL}: the lock could not be removed" in warnings_logged.text


def test_every_write_of_the_lock_is_encrypted_as_asked(client: Any) -> None:
    asked: list[str | None] = []
    client.meta.events.register(
        "before-call.s3.PutObject",
        lambda params, **_: asked.append(params["headers"].get("x-amz-server-side-encryption")),
    )
    with s3_snapshot_lock(client, SNAPSHOT, extra_args={"ServerSideEncryption": "AES256"}) as lock:
        lock.check()
        head = client.head_object(Bucket=BUCKET, Key=LOCK_KEY)
        assert head["ServerSideEncryption"] == "AES256"
    assert asked == ["AES256", "AES256"]


def test_a_stopped_run_whose_client_refuses_requests_leaves_its_lock_to_expire(
    client: Any, warnings_logged: pytest.LogCaptureFixture
) -> None:
    stop = RunStop()
    # The run's clients send nothing once it is stopped (RunStop.attach: a before-send check,
    # which in-process moto would only run after answering): refused here before the call.
    client.meta.events.register("before-call.s3.DeleteObject", stop.check)
    with s3_snapshot_lock(client, SNAPSHOT, stop=stop):
        stop.event.set()
    assert lock_exists(client)
    assert "the run was stopped before its lock was removed; it expires" in warnings_logged.text
    assert not lock_threads()


def test_the_lock_object_names_its_holder(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        body = lock_body(client)
        assert set(body) == {
            "format",
            "host",
            "pid",
            "run",
            "acquired",
            "renewed",
            "expires",
            "expiry_seconds",
            "sequence",
        }
        assert (body["host"], body["pid"], body["expiry_seconds"]) == (
            lock.holder.host,
            lock.holder.pid,
            LOCK_EXPIRY_SECONDS,
        )
        head = client.head_object(Bucket=BUCKET, Key=LOCK_KEY)
        assert head["ContentType"] == "application/json"


def test_over_http_s3s_date_header_is_the_clock() -> None:
    # moto as a server answers over HTTP with a Date header, as S3 does: the lock works end to
    # end without the test's S3Clock.
    with running_moto_server() as url:
        server = s3_client(SessionFactory(ClientOptions(endpoint_url=url)))
        server.create_bucket(Bucket=BUCKET)
        with s3_snapshot_lock(server, SNAPSHOT) as lock:
            answer = server.get_object(Bucket=BUCKET, Key=LOCK_KEY)
            assert "date" in answer["ResponseMetadata"]["HTTPHeaders"]
            with pytest.raises(S3LockHeld, match=f"pid {lock.holder.pid}, "):
                s3_snapshot_lock(server, SNAPSHOT).__enter__()
            lock.check()
        assert not server.list_objects_v2(Bucket=BUCKET).get("KeyCount")


def test_s3s_clock_is_the_date_header_else_the_local_clock() -> None:
    date = {"ResponseMetadata": {"HTTPHeaders": {"date": "Tue, 08 Dec 2026 03:29:09 GMT"}}}
    assert s3_lock_object.s3_clock(date) == datetime(2026, 12, 8, 3, 29, 9, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    assert (
        before
        <= s3_lock_object.s3_clock({"ResponseMetadata": {"HTTPHeaders": {}}})
        <= datetime.now(timezone.utc)
    )
