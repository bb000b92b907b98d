"""Benchmark `smi collect` against a plain sequential boto3 loop, on one fake endpoint, in one run.

Starts the fake of scripts/fake_endpoint.py on 127.0.0.1 (N jobs, L ms latency per request,
ThrottlingException above T requests/s per operation; `--full-jobs` for jobs with every member),
then runs each client as a subprocess (so its peak RSS and CPU, its children's included, are its
own, read with os.wait4) and prints wall seconds, jobs/s, API calls per job by operation and
throttled answers (both counted at the fake), peak RSS, CPU, and the ratios smi/bare and smi/loop.
"bare" is scripts/bare_client.py, the same calls with no botocore (unsigned HTTP, JSON, threads):
the endpoint's ceiling, not a collector. Every run checks that each of the N jobs was written
exactly once. It also times `smi --help` and checks that it does not import boto3.

    python scripts/bench.py                                  # N=200, L=30 ms: under a minute
    python scripts/bench.py --jobs 1000 --latency-ms 30      # docs/benchmarks.md: one region
    python scripts/bench.py --jobs 1000 --throttle 50 --skip-loop

The scope-heavy workload: an organization of A accounts (the caller's and A - 1 members) and R
regions (plus E regions where no account has a job), `--jobs` jobs in every account x region;
smi runs `collect --org`, assuming a role in each member account (the loop is not run):

    python scripts/bench.py --accounts 101 --regions 4 --jobs 2
    python scripts/bench.py --accounts 101 --regions 4 --jobs 2 --smi-arg=--processes --smi-arg=4

Where smi's CPU went (py-spy samples every smi process; see scripts/spy_summary.py):

    python scripts/bench.py --accounts 1001 --regions 4 --jobs 2 --py-spy /tmp/smi.raw
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_endpoint import (
    ACCOUNT,
    FakeConfig,
    FakeState,
    Stats,
    Where,
    job_arn,
    org_accounts,
    start_fake,
)
from fake_limits import add_limit_arguments, limit_shape_from

REGION = "us-east-1"
# The regions of the scope-heavy workload, in order: --regions R takes the first R, and
# --empty-regions E the next E.
BENCH_REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-2",
    "us-east-2",
    "eu-west-2",
    "ap-south-1",
    "ca-central-1",
    "eu-north-1",
    "sa-east-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "eu-west-3",
    "us-west-1",
    "ap-northeast-3",
)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunResult:
    """One client's run against the fake."""

    name: str
    scopes: int
    jobs: int
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    records: int
    lost: int
    duplicates: int
    requests: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)
    accepted_rate: dict[str, float] = field(default_factory=dict)
    # The most each limited operation's limiter allowed between its first and last accepted
    # request, and the share of it that was accepted.
    allowed: dict[str, float] = field(default_factory=dict)
    accepted_fraction: dict[str, float] = field(default_factory=dict)
    fake_cpu_s: float = 0.0
    # Where the wall time went, seen from the fake: before the first request (start-up), between
    # the first and last accepted DescribeTrainingJob, and after the last request (shut-down).
    phases: dict[str, float] = field(default_factory=dict)
    stderr_tail: str = ""

    def jobs_per_s(self) -> float:
        return self.jobs / self.wall_s if self.wall_s else 0.0

    def calls_per_job(self) -> dict[str, float]:
        return {op: round(n / max(1, self.jobs), 4) for op, n in self.requests.items()}

    def cpu_ms_per_call(self) -> float:
        return 1000 * self.cpu_s / max(1, sum(self.requests.values()))

    def cpu_ms_per_scope(self) -> float:
        return 1000 * self.cpu_s / max(1, self.scopes)

    def cpu_ms_per_job(self) -> float:
        return 1000 * self.cpu_s / max(1, self.jobs)


def child_env() -> dict[str, str]:
    """The environment of a client: fake credentials, no user AWS config, nothing else of AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    empty = Path(tempfile.gettempdir()) / "bench-empty-aws-config"
    empty.write_text("")
    env |= {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return env


def run_child(
    cmd: list[str], env: dict[str, str], stdout: Path, stderr: Path
) -> tuple[int, float, float, float]:
    """(exit code, wall s, CPU s, peak RSS MB) of one child; wait4 gives this child's own rusage."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


@dataclass(frozen=True)
class Workload:
    """The accounts x regions the fake serves and the client covers; each scope has `jobs` jobs,
    but the regions in `empty` have none."""

    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    empty: tuple[str, ...] = ()
    jobs: int = 0
    org: bool = False  # collected with `smi collect --org`

    @property
    def scopes(self) -> int:
        return len(self.accounts) * (len(self.regions) + len(self.empty))

    @property
    def total_jobs(self) -> int:
        return len(self.accounts) * len(self.regions) * self.jobs

    def expected_arns(self) -> set[str]:
        return {
            job_arn(i, Where(account, region))
            for account in self.accounts
            for region in self.regions
            for i in range(self.jobs)
        }


def workload_of(args: argparse.Namespace, config: FakeConfig) -> Workload:
    regions = BENCH_REGIONS[: args.regions]
    empty = BENCH_REGIONS[args.regions : args.regions + args.empty_regions]
    accounts = tuple(org_accounts(config)) if args.accounts else (ACCOUNT,)
    return Workload(accounts, regions, empty, args.jobs, org=bool(args.accounts))


def count_records(path: Path, key: str, expected: set[str]) -> tuple[int, int, int]:
    """(records, jobs lost, duplicates) of a JSON-lines output naming jobs' ARNs in `key`."""
    seen: set[str] = set()
    records = 0
    with path.open() as lines:
        for line in lines:
            if line.strip():
                records += 1
                seen.add(json.loads(line)[key])
    return records, len(expected - seen), records - len(seen)


def measure(
    name: str, cmd: list[str], key: str, workload: Workload, state: FakeState, work: Path
) -> RunResult:
    out, err = work / f"{name}.jsonl", work / f"{name}.stderr"
    state.reset()
    fake_cpu = time.process_time()  # this process only serves the fake while the child runs
    began = time.monotonic()
    code, wall, cpu, rss = run_child(cmd, child_env(), out, err)
    ended = time.monotonic()
    fake_cpu = time.process_time() - fake_cpu
    seen = state.reset()
    stats = seen.as_dict()
    records, lost, duplicates = count_records(out, key, workload.expected_arns())
    return RunResult(
        name,
        workload.scopes,
        workload.total_jobs,
        code,
        round(wall, 3),
        round(cpu, 3),
        round(rss, 1),
        records,
        lost,
        duplicates,
        stats["requests"],
        stats["throttled"],
        stats["accepted_rate"],
        stats["allowed"],
        stats["accepted_fraction"],
        round(fake_cpu, 3),
        phases(seen, began, ended),
        err.read_text(errors="replace")[-600:],
    )


def phases(seen: Stats, began: float, ended: float) -> dict[str, float]:
    if seen.first_seen is None or seen.last_seen is None:
        return {}
    describe = "DescribeTrainingJob"
    out = {
        "startup_s": seen.first_seen - began,
        "shutdown_s": ended - seen.last_seen,
    }
    if describe in seen.first_ok:
        out["first_describe_s"] = seen.first_ok[describe] - began
        out["describe_phase_s"] = seen.last_ok[describe] - seen.first_ok[describe]
    return {k: round(v, 3) for k, v in out.items()}


# Runs smi from another source tree (a variant under test): the editable install's import finder
# would otherwise win over PYTHONPATH.
VARIANT_LAUNCHER = """
import runpy, sys
root = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, root)
runpy.run_module("sagemaker_inventory", run_name="__main__", alter_sys=True)
"""


def compile_smi(source: str | None) -> None:
    """Byte-compile the smi under test, as installing it does. Runs measure an installed smi;
    where PYTHONDONTWRITEBYTECODE is set (this project's machines set it), Python would
    otherwise compile every module of smi from source in every run, and charge it to start-up."""
    import compileall
    import importlib.util

    if source:
        package = Path(source) / "sagemaker_inventory"
    else:
        spec = importlib.util.find_spec("sagemaker_inventory")
        locations = spec.submodule_search_locations if spec else None
        if not locations:
            return
        package = Path(next(iter(locations)))
    compileall.compile_dir(package, quiet=1)


def smi_command(url: str, out: Path, args: argparse.Namespace, workload: Workload) -> list[str]:
    if args.source:
        launch = [sys.executable, "-c", VARIANT_LAUNCHER, args.source]
    else:
        launch = [sys.executable, "-m", "sagemaker_inventory"]
    cmd = [*launch, "collect", "-r", ",".join(workload.regions + workload.empty)]
    if workload.org:
        cmd.append("--org")
    cmd += ["--endpoint-url", url, "-o", str(out), "--format", "jsonl", "-q"]
    if args.max_workers:
        cmd += ["--max-workers", str(args.max_workers)]
    cmd += list(args.smi_arg)
    if args.py_spy:
        # Samples, in every process, the thread holding the GIL: py-spy counts a thread blocked
        # in a socket read or on a queue as running, so without --gil waits outweigh work. Its
        # own CPU counts in the figures of such a run, which is for the breakdown only.
        spy = ["py-spy", "record", "--subprocesses", "--gil", "--format", "raw", "-o", args.py_spy]
        cmd = [*spy, "--", *cmd]
    return cmd


def bare_command(url: str, out: Path, args: argparse.Namespace) -> list[str]:
    script = Path(__file__).resolve().parent / "bare_client.py"
    return [sys.executable, str(script), url, str(out), "--workers", str(args.max_workers or 32)]


def loop_command(url: str, out: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--run-loop", url, str(out)]


def run_loop(url: str, out: str) -> None:
    """What a user writes by hand: page the jobs (100 a page), describe each, then its tags."""
    import boto3

    client = boto3.client("sagemaker", region_name=REGION, endpoint_url=url)
    with Path(out).open("w") as sink:
        paginator = client.get_paginator("list_training_jobs")
        for page in paginator.paginate(PaginationConfig={"PageSize": 100}):
            for summary in page["TrainingJobSummaries"]:
                name = summary["TrainingJobName"]
                job: dict[str, Any] = dict(client.describe_training_job(TrainingJobName=name))
                job.pop("ResponseMetadata", None)
                job["Tags"] = client.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
                sink.write(json.dumps(job, default=str) + "\n")


def measure_startup(env: dict[str, str], repeats: int = 5) -> dict[str, Any]:
    """Wall time of `smi --help` and whether it (or `smi collect --help`) imports boto3."""
    smi = shutil.which("smi")
    base = [smi] if smi else [sys.executable, "-m", "sagemaker_inventory"]
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run([*base, "--help"], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - began)
    imported = {}
    for argv in (["--help"], ["collect", "--help"]):
        cmd = [sys.executable, "-X", "importtime", "-m", "sagemaker_inventory", *argv]
        trace = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stderr
        modules = {line.rsplit("|", 1)[-1].strip() for line in trace.splitlines() if "|" in line}
        imported[" ".join(["smi", *argv])] = sorted(
            m for m in modules if m in {"boto3", "botocore"}
        )
    return {
        "help_median_s": round(statistics.median(times), 3),
        "help_min_s": round(min(times), 3),
        "heavy_imports": imported,
    }


def print_table(results: list[RunResult], startup: dict[str, Any] | None) -> None:
    def row(label: str, values: list[str]) -> None:
        print(f"{label:<34}" + "".join(f"{v:>22}" for v in values))

    by_name = {r.name: r for r in results}
    ratios = [other for other in ("bare", "loop") if "smi" in by_name and other in by_name]
    row("", [r.name for r in results] + [f"smi/{other}" for other in ratios])
    metrics: list[tuple[str, Any]] = [
        ("wall s", lambda r: r.wall_s),
        ("jobs/s", lambda r: round(r.jobs_per_s(), 1)),
        ("peak RSS MB", lambda r: r.peak_rss_mb),
        ("CPU s (process tree, user+sys)", lambda r: r.cpu_s),
        ("CPU ms per request", lambda r: round(r.cpu_ms_per_call(), 2)),
        ("CPU ms per scope", lambda r: round(r.cpu_ms_per_scope(), 1)),
        ("CPU ms per job", lambda r: round(r.cpu_ms_per_job(), 2)),
        ("fake endpoint CPU s", lambda r: r.fake_cpu_s),
        ("start-up s (to 1st request)", lambda r: r.phases.get("startup_s", "")),
        ("to 1st Describe s", lambda r: r.phases.get("first_describe_s", "")),
        ("Describe phase s", lambda r: r.phases.get("describe_phase_s", "")),
        ("after last request s", lambda r: r.phases.get("shutdown_s", "")),
    ]
    for label, get in metrics:
        values = [get(r) for r in results]
        smi = get(by_name["smi"]) if ratios else None
        cells = [
            f"{smi / get(by_name[o]):.3g}x" if smi != "" and get(by_name[o]) else "" for o in ratios
        ]
        row(label, [str(v) for v in values] + cells)
    row("exit code", [str(r.exit_code) for r in results])
    row("records / lost / duplicates", [f"{r.records}/{r.lost}/{r.duplicates}" for r in results])
    ops = sorted({op for r in results for op in r.requests})
    for op in ops:
        row(f"calls/job {op}", [str(r.calls_per_job().get(op, 0)) for r in results])
    for op in ops:
        row(f"throttled {op}", [str(r.throttled.get(op, 0)) for r in results])
    for r in results:
        tagging = r.calls_per_job()
        extra = sum(
            tagging.get(op, 0) for op in ("DescribeTrainingJob", "ListTags", "GetResources")
        )
        row(f"{r.name}: describe+tag calls/job", [f"{extra:.3f}"])
        row(f"{r.name}: accepted Describe/s", [str(r.accepted_rate.get("DescribeTrainingJob", 0))])
        if "DescribeTrainingJob" in r.accepted_fraction:
            allowed = r.allowed["DescribeTrainingJob"]
            fraction = r.accepted_fraction["DescribeTrainingJob"]
            row(f"{r.name}: Describe allowed in phase", [f"{allowed:g}"])
            row(f"{r.name}: Describe accepted fraction", [f"{fraction:.1%}"])
    if startup:
        row("smi --help median / min s", [f"{startup['help_median_s']} / {startup['help_min_s']}"])
        for command, modules in startup["heavy_imports"].items():
            row(f"{command} imports", [", ".join(modules) or "no boto3/botocore"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--jobs", type=int, default=200, help="jobs per account x region (default 200)"
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=0,
        metavar="A",
        help="an organization of A accounts, collected with --org (default: one account)",
    )
    parser.add_argument(
        "--regions", type=int, default=1, metavar="R", help="regions with jobs (default 1)"
    )
    parser.add_argument(
        "--empty-regions", type=int, default=0, metavar="E", help="more regions with no job"
    )
    parser.add_argument("--latency-ms", type=float, default=30.0, help="added per request")
    parser.add_argument("--throttle", type=float, default=0.0, help="req/s per operation; 0=off")
    parser.add_argument("--burst", type=float, default=5.0, help="throttle bucket size")
    parser.add_argument(
        "--op-throttle",
        action="append",
        default=[],
        metavar="OP=N",
        help="per-operation limit overriding --throttle, e.g. ListTrainingJobs=2",
    )
    add_limit_arguments(parser)
    parser.add_argument("--tagged-every", type=int, default=2, help="every k-th job has tags")
    parser.add_argument("--deny-bulk-tags", action="store_true", help="GetResources is denied")
    parser.add_argument("--max-workers", type=int, help="passed to smi collect")
    parser.add_argument(
        "--smi-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra smi argument, repeatable: --smi-arg=--processes --smi-arg=4",
    )
    parser.add_argument("--source", help="run smi from this source tree (try a variant)")
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record smi under py-spy into FILE (raw format) and print where its CPU went;"
        " py-spy's own CPU then counts in smi's figures",
    )
    parser.add_argument(
        "--full-jobs", action="store_true", help="jobs with every member of the model (~11 KB)"
    )
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--skip-bare", action="store_true", help="no bare HTTP client baseline")
    parser.add_argument("--skip-smi", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--run-loop", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.regions + args.empty_regions <= len(BENCH_REGIONS):
        parser.error(f"--regions + --empty-regions must be 1 to {len(BENCH_REGIONS)}")
    if args.accounts < 0 or args.jobs < 0:
        parser.error("--accounts and --jobs must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.run_loop:
        run_loop(*args.run_loop)
        return 0
    per_op = {op: float(n) for op, _, n in (v.partition("=") for v in args.op_throttle)}
    config = FakeConfig(
        jobs=args.jobs,
        latency=args.latency_ms / 1000,
        throttle=args.throttle,
        burst=args.burst,
        per_operation=per_op,
        limit=limit_shape_from(args),
        tagged_every=args.tagged_every,
        deny_bulk_tags=args.deny_bulk_tags,
        full_jobs=args.full_jobs,
        accounts=max(1, args.accounts),
        empty_regions=frozenset(BENCH_REGIONS[args.regions : args.regions + args.empty_regions]),
    )
    workload = workload_of(args, config)
    # The hand-written loop and the bare client cover one account x region; the bare client is
    # the endpoint's ceiling and does not retry, so a rate limit makes it meaningless.
    skip_loop = args.skip_loop or workload.scopes > 1
    skip_bare = args.skip_bare or workload.scopes > 1 or args.throttle > 0
    compile_smi(args.source)
    server, state = start_fake(config)
    load_before = os.getloadavg()[0]
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="smi-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_smi:
            cmd = smi_command(server.url, work / "smi.jsonl", args, workload)
            results.append(measure("smi", cmd, "training_job_arn", workload, state, work))
        if not skip_bare:
            cmd = bare_command(server.url, work / "bare.jsonl", args)
            results.append(measure("bare", cmd, "TrainingJobArn", workload, state, work))
        if not skip_loop:
            cmd = loop_command(server.url, work / "loop.jsonl")
            results.append(measure("loop", cmd, "TrainingJobArn", workload, state, work))
    server.shutdown()
    load_after = os.getloadavg()[0]
    startup = None if args.skip_startup else measure_startup(child_env())
    report: dict[str, Any] = {
        "config": {k: v for k, v in vars(args).items() if k != "run_loop"},
        "runs": [
            asdict(r)
            | {
                "jobs_per_s": round(r.jobs_per_s(), 1),
                "calls_per_job": r.calls_per_job(),
                "cpu_ms_per_scope": round(r.cpu_ms_per_scope(), 2),
                "cpu_ms_per_job": round(r.cpu_ms_per_job(), 3),
            }
            for r in results
        ],
        "startup": startup,
        # Other work on the machine skews wall times: CPU-bound clients share 2 cores with it.
        "load_average": [load_before, load_after],
    }
    walls = {r.name: r.wall_s for r in results}
    for other in ("loop", "bare"):
        if "smi" in walls and other in walls:
            report[f"smi_wall_over_{other}"] = round(walls["smi"] / walls[other], 2)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        limit = config.limit.describe(args.throttle, args.burst) if args.throttle else "none"
        print(
            f"fake: {len(workload.accounts)} account(s) x {len(workload.regions)} region(s)"
            f" (+{len(workload.empty)} empty) = {workload.scopes} scopes, {args.jobs} jobs each"
            f" ({workload.total_jobs} in all), {args.latency_ms} ms latency,"
            f" limit {limit} {per_op or ''};"
            f" load average {load_before:.2f} -> {load_after:.2f}"
        )
        print_table(results, startup)
    if args.py_spy and not args.skip_smi:
        from spy_summary import print_summary, summarize

        print_summary(summarize(Path(args.py_spy)))
    failed = [r for r in results if r.exit_code != 0 or r.lost or r.duplicates]
    for r in failed:
        print(f"{r.name}: exit {r.exit_code}, {r.lost} lost\n{r.stderr_tail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
