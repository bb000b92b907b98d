#!/usr/bin/env python3
"""Write a large synthetic JSONL inventory in the aws_sagemaker_trainingjob record shape.

For measuring `smi report` on realistic volumes (e.g. 100,000 jobs): records carry the fields a
described job usually has -- algorithm, hyperparameters, channels, resource config (some with
instance groups), stopping condition, status transitions, metrics, tags -- so that line sizes and
parse costs are close to a real inventory. Output is deterministic for a given --seed.

    python scripts/make_inventory.py -n 100000 -o /tmp/inventory.jsonl
    /usr/bin/time -v smi report /tmp/inventory.jsonl --by instance_type --format json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
TYPES = ("ml.m5.xlarge", "ml.c5.4xlarge", "ml.g5.2xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge")
TEAMS = ("vision", "nlp", "recsys", "growth", "risk")
STATUSES = (("Completed", 70), ("Failed", 15), ("Stopped", 5), ("InProgress", 10))
REASONS = (
    'AlgorithmError: ExecuteUserScriptError: ExitCode {n} Command "/opt/conda/bin/python3 train"',
    "ClientError: Data download failed: s3://bucket-{n}/data/part-{n}.csv not found",
    "CapacityError: Unable to provision requested ML compute capacity ({n} instances).",
    "InternalServerError: We encountered an internal error. Please try again. Request {n}",
)
EPOCH = datetime(2026, 3, 1, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    """The record's timestamp form: UTC with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def resource_config(rng: random.Random) -> dict[str, Any]:
    """One instance type, or (1 job in 20) a heterogeneous cluster."""
    if rng.random() < 0.05:
        groups = [
            {
                "instance_count": rng.randint(1, 4),
                "instance_group_name": f"g{i}",
                "instance_type": t,
            }
            for i, t in enumerate(rng.sample(TYPES, 2))
        ]
        return {"instance_count": 0, "instance_groups": groups, "volume_size_in_gb": 100}
    return {"instance_count": rng.choice((1, 1, 2, 4, 8)), "instance_type": rng.choice(TYPES),
            "volume_size_in_gb": rng.choice((30, 100, 500))}  # fmt: skip


def timing(rng: random.Random, status: str, created: datetime) -> dict[str, Any]:
    """Start/end/seconds fields; a running job has only its start (or none yet)."""
    started = created + timedelta(seconds=rng.randint(60, 900))
    fields: dict[str, Any] = {"training_start_time": iso(started)}
    if status == "InProgress":
        return fields if rng.random() < 0.9 else {}
    seconds = rng.randint(120, 86_400)
    fields |= {"training_end_time": iso(started + timedelta(seconds=seconds)),
               "training_time_in_seconds": seconds}  # fmt: skip
    return fields


def make_record(rng: random.Random, index: int) -> dict[str, Any]:
    """One synthetic job, keys in the record's documented order where it matters little."""
    account, region = rng.choice(ACCOUNTS), rng.choice(REGIONS)
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    name = f"{rng.choice(TEAMS)}-train-{index:07d}"
    created = EPOCH - timedelta(seconds=rng.randint(0, 365 * 86_400))
    spot = rng.random() < 0.3
    times = timing(rng, status, created)
    record: dict[str, Any] = {
        "account_id": account,
        "algorithm_specification": {
            "training_image": f"763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-training:2.3",
            "training_input_mode": "File",
            "metric_definitions": [{"name": "train:loss", "regex": "loss: ([0-9\\.]+)"}],
        },
        "creation_time": iso(created),
        "hyper_parameters": {
            "epochs": str(rng.randint(1, 50)),
            "lr": "0.0003",
            "batch-size": "128",
        },
        "input_data_config": [
            {
                "channel_name": "train",
                "data_source": {
                    "s3_data_source": {
                        "s3_data_type": "S3Prefix",
                        "s3_uri": f"s3://data-{account}/train/",
                    }
                },
            },
        ],
        "last_modified_time": iso(created + timedelta(days=1)),
        "output_data_config": {"s3_output_path": f"s3://models-{account}/{name}/"},
        "resource_config": resource_config(rng),
        "role_arn": f"arn:aws:iam::{account}:role/SageMakerExecution",
        "secondary_status_transitions": [
            {"start_time": iso(created), "status": "Starting", "status_message": "Preparing"},
            {"start_time": iso(created), "status": "Downloading", "status_message": "Downloading"},
        ],
        "stopping_condition": {"max_runtime_in_seconds": 86_400}
        | ({"max_wait_time_in_seconds": 172_800} if spot else {}),
        "tags": sorted(
            [f"team:{name.split('-', maxsplit=1)[0]}", f"cost-center:cc-{rng.randint(1, 9)}"]
            + (
                [f"aws:cloudformation:stack-name:stack-{rng.randint(1, 5)}"]
                if rng.random() < 0.5
                else []
            )
        ),
        "training_job_arn": f"arn:aws:sagemaker:{region}:{account}:training-job/{name}",
        "training_job_name": name,
        "training_job_status": status,
        "enable_managed_spot_training": spot,
        "secondary_status": "Training" if status == "InProgress" else status,
        **times,
    }
    if "training_time_in_seconds" in times:
        seconds = times["training_time_in_seconds"]
        record["billable_time_in_seconds"] = (
            int(seconds * rng.uniform(0.3, 0.9)) if spot else seconds
        )
    if status == "Failed":
        record["failure_reason"] = rng.choice(REASONS).format(n=rng.randint(1, 99_999))
    return record


def write_inventory(count: int, seed: int, out: TextIO) -> None:
    """Write `count` records, one JSON object per line."""
    rng = random.Random(seed)
    for index in range(count):
        out.write(json.dumps(make_record(rng, index), separators=(",", ":")) + "\n")


def main(argv: list[str] | None = None) -> None:
    """Command line: -n COUNT, -o FILE (default stdout), --seed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-n", "--count", type=int, default=100_000)
    parser.add_argument("-o", "--output", default="-")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.output == "-":
        write_inventory(args.count, args.seed, sys.stdout)
        return
    with Path(args.output).open("w", encoding="utf-8") as out:
        write_inventory(args.count, args.seed, out)


if __name__ == "__main__":
    main()
