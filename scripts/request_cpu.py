"""Where one DescribeTrainingJob request's CPU goes on botocore's path, stage by stage, for smi's
client and for variants of its botocore `Config`: the per-request half of "where the time went".

Each client sends DescribeTrainingJob to the fake of scripts/fake_endpoint.py (in this process,
fully populated jobs, no added latency, so that requests follow each other and nothing but the
request path runs on the calling thread). Handlers registered first on botocore's own public
events read the calling thread's CPU clock (`time.thread_time`: a busy machine skews it less than
wall time) as each stage begins; the stages are named by the event that ends them:

    start -> before-parameter-build   the client method, its context
    -> before-call                    parameter validation, serialization, endpoint, User-Agent
    -> request-created                the AWSRequest
    -> before-send                    signing, the User-Agent rebuilt, the prepared request
    -> before-parse                   urllib3 and http.client: send, status, headers, body
    -> needs-retry                    the response parser (JSON decode, shape walk, timestamps)
    -> after-call, end                retry bookkeeping, the return

Clients take turns in blocks of `--block` calls for `--rounds` rounds, so that a change in the
machine's load falls on every variant alike. Variants: `smi` (a SessionFactory client: smi's
Config, shared loader and UTC timestamp parser), the same with one Config option changed, and
`plain-botocore` (a plain botocore session: botocore's default parser, local-time timestamps).

    python scripts/request_cpu.py --rounds 20
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import child_env
from fake_endpoint import FakeConfig, start_fake

EVENTS = (
    "before-parameter-build",
    "before-call",
    "request-created",
    "before-send",
    "before-parse",
    "needs-retry",
    "after-call",
)


def make_clients(url: str) -> dict[str, Any]:
    """The clients compared, by name."""
    import botocore.session
    from botocore.config import Config

    from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory

    factory = SessionFactory(ClientOptions(endpoint_url=url))
    session: Any = factory.session(None)
    # smi's Config as SessionFactory builds it, plus the option under test.
    base = Config(retries={"mode": "standard"}, user_agent_extra="smi")
    options = {
        "no-validation": Config(parameter_validation=False),
        "checksum-required": Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
        "fixed-ua": Config(user_agent="smi"),
    }
    clients = {"smi": factory.client(session, "sagemaker", "us-east-1")}
    for name, option in options.items():
        clients[name] = session.create_client(
            "sagemaker", region_name="us-east-1", endpoint_url=url, config=base.merge(option)
        )
    plain: Any = botocore.session.get_session()
    clients["plain-botocore"] = plain.create_client(
        "sagemaker", region_name="us-east-1", endpoint_url=url, config=base
    )
    return clients


def clock_stages(client: Any, marks: list[tuple[str, float]]) -> None:
    """Note the thread's CPU time as each of botocore's events of a DescribeTrainingJob fires."""
    for event in EVENTS:
        client.meta.events.register_first(
            f"{event}.sagemaker.DescribeTrainingJob", _marker(event, marks)
        )


def _marker(event: str, marks: list[tuple[str, float]]) -> Callable[..., None]:
    def mark(**_: Any) -> None:  # must return None: some events take a return as an answer
        marks.append((event, time.thread_time()))

    return mark


def one_call(client: Any, name: str, marks: list[tuple[str, float]], into: Counter[str]) -> None:
    marks.clear()
    began = time.thread_time()
    client.describe_training_job(TrainingJobName=name)
    ended = time.thread_time()
    previous = "start", began
    for stage, at in [*marks, ("end", ended)]:
        into[f"{previous[0]} -> {stage}"] += at - previous[1]
        previous = stage, at
    into["total"] += ended - began


def measure(clients: dict[str, Any], rounds: int, block: int) -> dict[str, Counter[str]]:
    marks: list[tuple[str, float]] = []
    for client in clients.values():
        clock_stages(client, marks)
    first: Any = next(iter(clients.values()))
    page = first.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
    names = [job["TrainingJobName"] for job in page]
    spent: dict[str, Counter[str]] = {name: Counter() for name in clients}
    for turn in range(rounds + 1):  # the first round warms every client up and is not counted
        for label, client in clients.items():
            into = spent[label] if turn else Counter()
            for i in range(block):
                one_call(client, names[i % len(names)], marks, into)
    return spent


def print_table(spent: dict[str, Counter[str]], calls: int) -> None:
    labels = list(spent)
    stages = list(spent[labels[0]])
    print(f"{f'µs of CPU per request ({calls} each)':38}" + "".join(f"{x:>18}" for x in labels))
    for stage in stages:
        cells = "".join(f"{1e6 * spent[x][stage] / calls:18.1f}" for x in labels)
        print(f"{stage:38}{cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--block", type=int, default=25, help="calls per client per turn")
    args = parser.parse_args()
    env = child_env()  # fake keys, no user AWS config
    os.environ.clear()
    os.environ.update(env)
    server, _ = start_fake(FakeConfig(jobs=100, full_jobs=True))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        load = os.getloadavg()[0]
        spent = measure(make_clients(url), args.rounds, args.block)
        print(f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
        print_table(spent, args.rounds * args.block)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
