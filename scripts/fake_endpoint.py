"""A fake SageMaker / tagging / STS endpoint on 127.0.0.1 for benchmarks: N generated jobs, added
latency, per-operation throttling, and counters of what it was asked.

It answers ListTrainingJobs, DescribeTrainingJob, ListTags (SageMaker), GetResources (Resource
Groups Tagging API) and ListAccounts (Organizations) in botocore's JSON 1.1 protocol and
GetCallerIdentity and AssumeRole (STS) in the query protocol; jobs are generated from their index,
so 20,000 of them cost no memory. With `accounts` > 1 it is a whole organization: ListAccounts
lists them, AssumeRole hands out keys naming the role's account, and every request is answered for
the account of its access key and the region of its SigV4 credential scope, each account x region
having `jobs` jobs of its own (none in `empty_regions`). Every request waits
`latency` seconds (on its own thread, as a remote service would) and, above `throttle` accepted
requests a second for its operation, is answered HTTP 400 ThrottlingException; the limit has the
shape `limit` (scripts/fake_limits.py: a token bucket with burst `burst`, a sliding or fixed
one-second window, an allowance that drops for a few seconds and comes back). Two traps of
`http.server` are avoided: responses leave as two writes (headers, body), so each connection sets
TCP_NODELAY or Nagle plus delayed ACK add ~40 ms; and the listen backlog is raised above 5, or a
burst of new connections gets 1 s SYN retries.

Run alone: `python scripts/fake_endpoint.py --jobs 1000 --latency-ms 30` prints its URL.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_limits import Limiter, LimitShape, add_limit_arguments, limit_shape_from

ACCOUNT = "123456789012"
REGION = "us-east-1"
EPOCH = 1767225600.0  # 2026-01-01T00:00:00Z: every job is older than any run, so bulk tags apply
JOB_PREFIX = "bench-job-"
MEMBER_ACCOUNT_BASE = 200000000000  # member i of an organization is account 200000000000 + i
ASSUMED_KEY_PREFIX = "ASIA"  # AssumeRole's keys: ASIA + the role's account id
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/")
THROTTLED_BODY = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()


@dataclass
class Stats:
    """What the endpoint was asked: requests and throttled answers per operation, when the first
    and last accepted request of each operation arrived (to measure a sustained rate), and each
    operation's limiter (to know what it allowed in between)."""

    requests: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    first_ok: dict[str, float] = field(default_factory=dict)
    last_ok: dict[str, float] = field(default_factory=dict)
    first_seen: float | None = None  # time.monotonic() of the first and last request of any kind
    last_seen: float | None = None
    limiters: dict[str, Limiter] = field(default_factory=dict)

    def accepted_rate(self, operation: str) -> float:
        """Accepted requests per second between the first and the last accepted one."""
        ok = self.requests[operation] - self.throttled[operation]
        span = self.last_ok.get(operation, 0.0) - self.first_ok.get(operation, 0.0)
        return (ok - 1) / span if ok > 1 and span > 0 else 0.0

    def allowed(self, operation: str) -> float | None:
        """The most requests the operation's limiter would have admitted between its first and
        last accepted request; None when it is not limited or nothing was accepted."""
        limiter = self.limiters.get(operation)
        if limiter is None or operation not in self.first_ok:
            return None
        return limiter.allowance(self.first_ok[operation], self.last_ok[operation])

    def accepted_fraction(self, operation: str) -> float | None:
        """Accepted requests over what the limiter allowed in the same time."""
        allowed = self.allowed(operation)
        ok = self.requests[operation] - self.throttled[operation]
        return ok / allowed if allowed else None

    def as_dict(self) -> dict[str, Any]:
        ops = sorted(self.requests)
        allowed = {op: self.allowed(op) for op in ops}
        fraction = {op: self.accepted_fraction(op) for op in ops}
        return {
            "requests": dict(sorted(self.requests.items())),
            "throttled": dict(sorted(self.throttled.items())),
            "accepted_rate": {op: round(self.accepted_rate(op), 2) for op in ops},
            "allowed": {op: round(n, 1) for op, n in allowed.items() if n is not None},
            "accepted_fraction": {op: round(f, 4) for op, f in fraction.items() if f is not None},
        }


@dataclass
class FakeConfig:
    jobs: int = 1000
    latency: float = 0.0
    throttle: float = 0.0  # accepted requests/s per operation; 0 = never throttle
    burst: float = 5.0
    per_operation: dict[str, float] = field(default_factory=dict)  # overrides `throttle`
    limit: LimitShape = field(default_factory=LimitShape)  # the shape of every operation's limit
    tagged_every: int = 2  # every k-th job has tags; the others were never tagged
    deny_bulk_tags: bool = False  # GetResources answers AccessDeniedException
    full_jobs: bool = False  # DescribeTrainingJob answers every member of the model at every depth
    accounts: int = 1  # accounts ListAccounts lists: the caller's (ACCOUNT) and accounts - 1 more
    empty_regions: frozenset[str] = frozenset()  # regions where every account has no job


@dataclass(frozen=True)
class Where:
    """The account x region a request is answered for."""

    account: str = ACCOUNT
    region: str = REGION


def org_accounts(config: FakeConfig) -> list[str]:
    """The organization's account ids: the caller's, then its members."""
    return [ACCOUNT] + [str(MEMBER_ACCOUNT_BASE + i) for i in range(1, config.accounts)]


def where_of(authorization: str) -> Where:
    """The account (from the access key) and region (from the credential scope) of a SigV4
    Authorization header; the caller's account and REGION when it names neither."""
    match = _CREDENTIAL.search(authorization or "")
    if match is None:
        return Where()
    key, region = match.groups()
    return Where(account_of_key(key), region)


def account_of_key(key: str) -> str:
    digits = key.removeprefix(ASSUMED_KEY_PREFIX)
    if key.startswith(ASSUMED_KEY_PREFIX) and len(digits) == 12 and digits.isdigit():
        return digits
    return ACCOUNT


def jobs_in(config: FakeConfig, where: Where) -> int:
    return 0 if where.region in config.empty_regions else config.jobs


class FakeState:
    """The jobs, the limiters and the counters shared by all handler threads."""

    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.stats = Stats()

    def reset(self) -> Stats:
        """Start counting afresh (with fresh limiters); returns the counts so far."""
        with self.lock:
            old, self.stats = self.stats, Stats()
            return old

    def admit(self, operation: str) -> bool:
        rate = self.config.per_operation.get(operation, self.config.throttle)
        with self.lock:
            now = time.monotonic()
            self.stats.requests[operation] += 1
            self.stats.first_seen = self.stats.first_seen or now
            limiters = self.stats.limiters
            if rate > 0 and operation not in limiters:
                limiters[operation] = self.config.limit.limiter(rate, self.config.burst, now)
            limiter = limiters.get(operation)
            # Under the lock: the limiter decides in arrival order, at the arrival time.
            admitted = limiter is None or limiter.admit(now)
            self.stats.last_seen = now
            if admitted:
                self.stats.first_ok.setdefault(operation, now)
                self.stats.last_ok[operation] = now
            else:
                self.stats.throttled[operation] += 1
        return admitted


def job_name(index: int) -> str:
    return f"{JOB_PREFIX}{index:06d}"


def job_arn(index: int, where: Where = Where()) -> str:
    return f"arn:aws:sagemaker:{where.region}:{where.account}:training-job/{job_name(index)}"


def job_index(name_or_arn: str) -> int | None:
    """The index of a job named (or ARN'd) by `job_name`, or None for anything else."""
    name = name_or_arn.rsplit("/", 1)[-1]
    digits = name.removeprefix(JOB_PREFIX)
    return int(digits) if name.startswith(JOB_PREFIX) and digits.isdigit() else None


def job_tags(state: FakeState, index: int) -> list[dict[str, str]]:
    if index % state.config.tagged_every:
        return []
    return [
        {"Key": "team", "Value": f"team-{index % 7}"},
        {"Key": "project", "Value": f"project-{index % 13}"},
        {"Key": "cost-center", "Value": str(1000 + index % 5)},
    ]


def job_summary(index: int, where: Where = Where()) -> dict[str, Any]:
    created = EPOCH - index * 60.0
    return {
        "TrainingJobName": job_name(index),
        "TrainingJobArn": job_arn(index, where),
        "CreationTime": created,
        "TrainingEndTime": created + 3600.0,
        "LastModifiedTime": created + 3660.0,
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
    }


def describe_job(index: int, where: Where = Where()) -> dict[str, Any]:
    """A Completed job with the members a typical real response has (~3 KB of JSON)."""
    created = EPOCH - index * 60.0
    start, end = created + 120.0, created + 3600.0
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-gpu-py311"
    transitions = [
        {
            "Status": s,
            "StartTime": created + i * 60.0,
            "EndTime": created + (i + 1) * 60.0,
            "StatusMessage": f"{s} phase",
        }
        for i, s in enumerate(("Starting", "Downloading", "Training", "Uploading", "Completed"))
    ]
    return {
        **job_summary(index, where),
        "ModelArtifacts": {
            "S3ModelArtifacts": f"s3://bench-bucket/out/{job_name(index)}/model.tar.gz"
        },
        "HyperParameters": {
            "epochs": "10",
            "learning_rate": "0.001",
            "MaxDepth": "6",
            "sagemaker_program": "train.py",
            "sagemaker_region": '"us-east-1"',
        },
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "EnableSageMakerMetricsTimeSeries": True,
            "MetricDefinitions": [{"Name": "loss", "Regex": "loss=(.*?);"}],
        },
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecution",
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://bench-bucket/data/{channel}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
                "CompressionType": "None",
                "RecordWrapperType": "None",
            }
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bench-bucket/out", "KmsKeyId": ""},
        "ResourceConfig": {
            "InstanceType": "ml.g5.2xlarge",
            "InstanceCount": 1 + index % 4,
            "VolumeSizeInGB": 50,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "TrainingStartTime": start,
        "TrainingEndTime": end,
        "SecondaryStatusTransitions": transitions,
        "FinalMetricDataList": [{"MetricName": "loss", "Value": 0.25, "Timestamp": end}],
        "EnableNetworkIsolation": False,
        "EnableInterContainerTrafficEncryption": False,
        "EnableManagedSpotTraining": False,
        "TrainingTimeInSeconds": int(end - start),
        "BillableTimeInSeconds": int(end - start),
        "DebugHookConfig": {
            "S3OutputPath": "s3://bench-bucket/debug",
            "CollectionConfigurations": [],
        },
        "ProfilerConfig": {
            "S3OutputPath": "s3://bench-bucket/profiler",
            "ProfilingIntervalInMilliseconds": 500,
            "DisableProfiler": False,
        },
        "ProfilingStatus": "Enabled",
        "Environment": {"PYTHONUNBUFFERED": "1"},
    }


@functools.cache
def full_job_template() -> dict[str, Any]:
    """A DescribeTrainingJob answer with every member of botocore's output shape at every depth
    (tests/model_responses.py's generator), in wire form: timestamps as epoch seconds, blobs as
    base64. About 30 KB of JSON, where `describe_job` gives the ~3 KB of a typical job."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from model_responses import full_response

    response = full_response(seed=7)
    response.pop("ResponseMetadata")
    wire: dict[str, Any] = json.loads(json.dumps(response, default=_wire_scalar))
    return wire


def _wire_scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


def full_job(index: int, where: Where = Where()) -> dict[str, Any]:
    """`full_job_template` as job `index` of `where` (name, ARN and summary members its own)."""
    return {**full_job_template(), **job_summary(index, where)}


def list_jobs(state: FakeState, body: dict[str, Any], where: Where = Where()) -> dict[str, Any]:
    jobs = jobs_in(state.config, where)
    start = int(body.get("NextToken") or 0)
    size = min(100, int(body.get("MaxResults") or 10))
    stop = min(jobs, start + size)
    summaries = [job_summary(i, where) for i in range(start, stop)]
    out: dict[str, Any] = {"TrainingJobSummaries": summaries}
    if stop < jobs:
        out["NextToken"] = str(stop)
    return out


def get_resources(state: FakeState, body: dict[str, Any], where: Where = Where()) -> dict[str, Any]:
    jobs = jobs_in(state.config, where)
    step, start = state.config.tagged_every, int(body.get("PaginationToken") or 0)
    size = min(100, int(body.get("ResourcesPerPage") or 50))
    indexes = range(start, jobs, step)[:size]
    last = indexes[-1] if indexes else jobs
    token = str(last + step) if last + step < jobs else ""
    mappings = [{"ResourceARN": job_arn(i, where), "Tags": job_tags(state, i)} for i in indexes]
    return {"ResourceTagMappingList": mappings, "PaginationToken": token}


def list_accounts(state: FakeState, body: dict[str, Any]) -> dict[str, Any]:
    """Organizations ListAccounts, 20 a page at most (its limit)."""
    accounts = org_accounts(state.config)
    start = int(body.get("NextToken") or 0)
    stop = min(len(accounts), start + min(20, int(body.get("MaxResults") or 20)))
    page = [
        {
            "Id": account,
            "Arn": f"arn:aws:organizations::{ACCOUNT}:account/o-bench/{account}",
            "Email": f"{account}@bench.example",
            "Name": f"bench-{account}",
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": "CREATED",
            "JoinedTimestamp": EPOCH,
        }
        for account in accounts[start:stop]
    ]
    out: dict[str, Any] = {"Accounts": page}
    if stop < len(accounts):
        out["NextToken"] = str(stop)
    return out


def caller_identity_xml(where: Where) -> str:
    who = "user/bench" if where.account == ACCOUNT else "assumed-role/bench/smi-bench"
    service = "iam" if where.account == ACCOUNT else "sts"
    return (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<GetCallerIdentityResult><Arn>arn:aws:{service}::{where.account}:{who}</Arn>"
        f"<UserId>AIDABENCH</UserId><Account>{where.account}</Account></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def assumed_secret(account: str) -> str:
    """A role's secret key: 40 characters of its own, as AWS hands out."""
    return hashlib.sha256(f"secret {account}".encode()).hexdigest()[:40]


def assumed_token(account: str) -> str:
    """A role's session token: its own, and as long as STS's (several hundred characters, in
    every request's headers and in smi's list of values to keep out of messages)."""
    seed = hashlib.sha512(f"token {account}".encode()).digest()
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(seed * 9).decode()


def assume_role_xml(form: dict[str, list[str]]) -> str:
    """AssumeRole's answer: keys naming the role's account, valid for an hour."""
    role_arn = (form.get("RoleArn") or [""])[0]
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 5 else ACCOUNT
    session = (form.get("RoleSessionName") or ["smi"])[0]
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        f"<Credentials><AccessKeyId>{ASSUMED_KEY_PREFIX}{account}</AccessKeyId>"
        f"<SecretAccessKey>{assumed_secret(account)}</SecretAccessKey>"
        f"<SessionToken>{assumed_token(account)}</SessionToken>"
        f"<Expiration>{expires}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROABENCH:{session}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{account}:assumed-role/bench/{session}</Arn></AssumedRoleUser>"
        "</AssumeRoleResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>"
        "</AssumeRoleResponse>"
    )


def dispatch(
    state: FakeState, operation: str, body: dict[str, Any], where: Where = Where()
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of one JSON-protocol request from `where`."""
    if operation == "ListTrainingJobs":
        return 200, list_jobs(state, body, where)
    if operation == "GetResources":
        if state.config.deny_bulk_tags:
            return 400, {"__type": "AccessDeniedException", "message": "not allowed"}
        return 200, get_resources(state, body, where)
    if operation == "ListAccounts":
        return 200, list_accounts(state, body)
    key = body.get("TrainingJobName") or body.get("ResourceArn") or ""
    index = job_index(str(key))
    if index is None or index >= jobs_in(state.config, where):
        return 400, {"__type": "ValidationException", "message": f"Could not find job {key}"}
    if operation == "DescribeTrainingJob":
        full = state.config.full_jobs
        return 200, (full_job if full else describe_job)(index, where)
    if operation == "ListTags":
        return 200, {"Tags": job_tags(state, index)}
    return 400, {"__type": "UnknownOperationException", "message": operation}


class FakeServer(ThreadingHTTPServer):
    request_queue_size = 512  # listen backlog: the default 5 drops bursts of new connections
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: FakeState, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses pooled connections
    server: FakeServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target")
        if target:
            self.answer_json(target.rsplit(".", 1)[-1], json.loads(raw or b"{}"))
        else:
            self.answer_query(parse_qs(raw.decode()))

    def answer_json(self, operation: str, body: dict[str, Any]) -> None:
        state = self.server.state
        admitted = state.admit(operation)
        time.sleep(state.config.latency)
        if not admitted:
            return self.send(400, THROTTLED_BODY)
        status, out = dispatch(state, operation, body, where_of(self.headers["Authorization"]))
        self.send(status, json.dumps(out).encode())

    def answer_query(self, form: dict[str, list[str]]) -> None:
        action = (form.get("Action") or [""])[0]
        self.server.state.admit(action)
        time.sleep(self.server.state.config.latency)
        if action == "GetCallerIdentity":
            xml = caller_identity_xml(where_of(self.headers["Authorization"]))
        elif action == "AssumeRole":
            xml = assume_role_xml(form)
        else:
            return self.send(400, b"<ErrorResponse/>", "text/xml")
        self.send(200, xml.encode(), "text/xml")

    def send(
        self, status: int, body: bytes, content_type: str = "application/x-amz-json-1.1"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "bench")
        self.end_headers()
        self.wfile.write(body)


def start_fake(config: FakeConfig, port: int = 0) -> tuple[FakeServer, FakeState]:
    """Serve `config` on 127.0.0.1 from a daemon thread; stop it with `server.shutdown()`."""
    state = FakeState(config)
    if config.full_jobs:
        full_job_template()  # built once, now, rather than on the clock of the first client
    server = FakeServer(state, port)
    threading.Thread(target=server.serve_forever, name="fake-endpoint", daemon=True).start()
    return server, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--throttle", type=float, default=0.0)
    parser.add_argument("--accounts", type=int, default=1, help="accounts in the organization")
    parser.add_argument("--full-jobs", action="store_true", help="every member of every job")
    parser.add_argument("--burst", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=0)
    add_limit_arguments(parser)
    args = parser.parse_args()
    config = FakeConfig(
        jobs=args.jobs,
        latency=args.latency_ms / 1000,
        throttle=args.throttle,
        accounts=args.accounts,
        full_jobs=args.full_jobs,
        burst=args.burst,
        limit=limit_shape_from(args),
    )
    server, state = start_fake(config, args.port)
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(5)
            print(json.dumps(state.stats.as_dict()), flush=True)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
