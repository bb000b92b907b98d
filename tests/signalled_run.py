"""smi in a process of its own, stopped by a signal mid-run: what the signal tests share.

`slow_cli_script` is a script running smi with a JSON lines sink that writes slowly: each record
prints "written" to the real stdout and takes 0.3 s, so a signal sent after the first "written"
lands mid-run. `signal_mid_run` starts it, sends the signal and returns the exit code and stderr.
`previous_files` and `files_in` show that a stopped run changed no file. The endpoints a stop must
cut short are on loopback: `throttling_endpoint` (scripts/fake_endpoint.py's jobs, with 97% of
the chosen operations' requests throttled, STS included), `SilentEndpoint` (accepts, never
answers) and `refused_url` (nothing listens).
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from threaded_server import running

_SLOW_SINK = """
import sys, time
from sagemaker_inventory.output import sinks

original_write = sinks.JsonLinesSink.write

def slow_write(self, record):
    original_write(self, record)
    print("written", file=sys.__stdout__, flush=True)
    time.sleep(0.3)

sinks.JsonLinesSink.write = slow_write
"""


def slow_cli_script(run: str, patches: str = "") -> str:
    """The slow-sink script: `patches` (more top-level code), then `run`, the statement that runs
    smi, under `if __name__ == "__main__":` (--processes workers are spawned: they import this
    script again and must not run smi)."""
    return f'{_SLOW_SINK}{patches}\nif __name__ == "__main__":\n    {run}\n'


def signal_mid_run(
    command: Sequence[str],
    cwd: Path | None = None,
    signum: signal.Signals = signal.SIGTERM,
    ready: str = "written\n",
) -> tuple[int, str]:
    """Run `command` (a slow_cli_script), send `signum` once it printed `ready` (its first record
    written), and return its exit code and stderr; a process that outlives the test is killed."""
    process = subprocess.Popen(
        list(command), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == ready
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    return process.returncode, err


def previous_files(work: Path, account_id: str) -> dict[str, bytes]:
    """In a new folder `work`, what an earlier run left: s.jsonl, a snapshot holding one job of
    `account_id` in us-east-1, and o.jsonl; returns files_in(work)."""
    work.mkdir()
    arn = f"arn:aws:sagemaker:us-east-1:{account_id}:training-job/old"
    record = {"account_id": account_id, "training_job_arn": arn}
    (work / "s.jsonl").write_text(json.dumps(record) + "\n")
    (work / "o.jsonl").write_text("previous\n")
    return files_in(work)


def files_in(work: Path) -> dict[str, bytes]:
    """Every file's bytes, by name, but the snapshot's lock file (a run may leave it behind)."""
    return {p.name: p.read_bytes() for p in work.iterdir() if p.name != "s.jsonl.lock"}


# --- loopback endpoints a stop must cut short ---------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from fake_endpoint import (  # noqa: E402  (scripts/ is not a package)
    FakeConfig,
    FakeServer,
    FakeState,
    Handler,
    assume_role_xml,
    caller_identity_xml,
    where_of,
)

STS_THROTTLED = (
    b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>stop</RequestId></ErrorResponse>"
)
# 32 of every 33 requests of a throttled operation are refused: 97%.
ADMIT_EVERY = 33


class ThrottlingState(FakeState):
    """fake_endpoint's jobs, with every operation in `throttled` answering 97% of its requests
    ThrottlingException (each 33rd gets through), STS GetCallerIdentity and AssumeRole too."""

    def __init__(
        self, config: FakeConfig, throttled: frozenset[str], hung: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(config)
        self.throttled = throttled
        self.hung = hung  # STS actions answered only once `released` is set (the test's end)
        self.released = threading.Event()

    def admit(self, operation: str) -> bool:
        with self.lock:
            self.stats.requests[operation] += 1
            admitted = (
                operation not in self.throttled or self.stats.requests[operation] % ADMIT_EVERY == 0
            )
            self.stats.throttled[operation] += not admitted
        return admitted

    def wait_throttled(self, operation: str, count: int, timeout: float = 60.0) -> None:
        """Return once `operation` was throttled `count` times (the caller is backing off)."""
        deadline = time.monotonic() + timeout
        while self.stats.throttled[operation] < count:
            assert time.monotonic() < deadline, f"{operation}: {self.stats.as_dict()}"
            time.sleep(0.02)


class _ThrottlingHandler(Handler):
    server: FakeServer

    def answer_query(self, form: dict[str, list[str]]) -> None:
        action = (form.get("Action") or [""])[0]
        if action in self.server.state.hung:
            self.server.state.admit(action)
            self.server.state.released.wait()
        if not self.server.state.admit(action):
            return self.send(400, STS_THROTTLED, "text/xml")
        if action == "AssumeRole":
            return self.send(200, assume_role_xml(form).encode(), "text/xml")
        xml = caller_identity_xml(where_of(self.headers["Authorization"]))
        self.send(200, xml.encode(), "text/xml")


@contextmanager
def throttling_endpoint(
    throttled: Iterable[str], jobs: int = 40, hung: Iterable[str] = ()
) -> Iterator[ThrottlingState]:
    """A loopback SageMaker/tagging/STS endpoint on a thread, throttling 97% of `throttled`,
    and never answering the STS actions `hung` while it serves."""
    state = ThrottlingState(FakeConfig(jobs=jobs), frozenset(throttled), frozenset(hung))
    server = FakeServer(state)
    server.RequestHandlerClass = _ThrottlingHandler
    state.url = server.url  # type: ignore[attr-defined]
    with running(server):
        try:
            yield state
        finally:
            state.released.set()  # hung answers end before the server shuts down


class SilentEndpoint:
    """Accepts connections on 127.0.0.1 and never answers: every request waits for its read
    timeout. `accepted` counts connections."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self._listener.accept()
                self._held.append(connection)
                self.accepted += 1

    def wait_accepted(self, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.accepted < count:
            assert time.monotonic() < deadline, "no connection was made"
            time.sleep(0.02)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


def refused_url() -> str:
    """A loopback URL nothing listens on: every connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"
