"""The endpoint's ceiling for scripts/bench.py: the same calls as smi without botocore.

Unsigned JSON POSTs over keep-alive `http.client` connections (one per thread): ListTrainingJobs
page by page, GetResources for the region's tags on a thread of its own, and DescribeTrainingJob
for every job on `workers` threads (smi's --max-workers), each response written as one JSON line
with its tags. No signing, retries, credentials, pacing or record conversion: what is left is
HTTP, JSON and threads, so smi's time over this one is what botocore and smi add.

    python scripts/bare_client.py http://127.0.0.1:PORT out.jsonl --workers 32
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SAGEMAKER = "SageMaker"
TAGGING = "ResourceGroupsTaggingAPI_20170126"


class BareClient:
    """JSON 1.1 calls to one endpoint, one keep-alive connection per thread."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._local = threading.local()

    def call(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection(self.host, self.port)
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
        connection.request("POST", "/", json.dumps(body).encode(), headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{target}: HTTP {response.status}: {payload[:200]!r}")
        answer: dict[str, Any] = json.loads(payload)
        return answer


def iter_summaries(client: BareClient) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        body: dict[str, Any] = {"MaxResults": 100}
        if token:
            body["NextToken"] = token
        page = client.call(f"{SAGEMAKER}.ListTrainingJobs", body)
        yield from page.get("TrainingJobSummaries", [])
        token = page.get("NextToken")
        if not token:
            return


def read_tags(client: BareClient) -> dict[str, list[dict[str, str]]]:
    tags: dict[str, list[dict[str, str]]] = {}
    token = ""
    while True:
        body: dict[str, Any] = {"ResourcesPerPage": 100}
        if token:
            body["PaginationToken"] = token
        page = client.call(f"{TAGGING}.GetResources", body)
        for mapping in page.get("ResourceTagMappingList", []):
            tags[mapping["ResourceARN"]] = mapping.get("Tags", [])
        token = page.get("PaginationToken") or ""
        if not token:
            return tags


def run(url: str, out: str, workers: int) -> int:
    """Write every job of the endpoint's region to `out`; returns the number written."""
    client = BareClient(url)
    tags: Future[dict[str, list[dict[str, str]]]] = Future()
    threading.Thread(target=lambda: tags.set_result(read_tags(client)), daemon=True).start()

    def describe(name: str) -> dict[str, Any]:
        return client.call(f"{SAGEMAKER}.DescribeTrainingJob", {"TrainingJobName": name})

    written = 0
    with Path(out).open("w") as sink, ThreadPoolExecutor(workers) as pool:
        pending: deque[Future[dict[str, Any]]] = deque()

        def write(job: dict[str, Any]) -> None:
            job["Tags"] = tags.result().get(job["TrainingJobArn"], [])
            sink.write(json.dumps(job) + "\n")

        for summary in iter_summaries(client):
            pending.append(pool.submit(describe, summary["TrainingJobName"]))
            if len(pending) >= 4 * workers:
                write(pending.popleft().result())
                written += 1
        while pending:
            write(pending.popleft().result())
            written += 1
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args(argv)
    run(args.url, args.out, args.workers)


if __name__ == "__main__":
    main()
