"""The run summary of `smi collect`: how every account x region scope went, as the `--report FILE`
JSON document and as its short human form on stderr (not `smi report`, which is report/'s).

`run_summary_document` is pure (a RunSummary in, plain JSON-ready data out);
`write_run_summary_file` replaces the --report file atomically (an S3 --report object is
written by the run, with `run_summary_text`); `render_run_summary` prints a rich
table on a terminal and a few plain lines otherwise, so logs of scheduled runs stay greppable.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.collect.outcome import FAILED, OK, SKIPPED
from sagemaker_inventory.output.files import atomic_writer
from sagemaker_inventory.records.timestamps import format_utc_seconds
from sagemaker_inventory.scrubbing import scrub

if TYPE_CHECKING:
    from rich.console import Console

    from sagemaker_inventory.collect.outcome import ApiCalls, RunSummary, ScopeResult

# Up to this many scopes the terminal table lists them all; beyond it, only those not collected.
FULL_TABLE_SCOPES = 20


def run_summary_document(
    summary: RunSummary,
    exit_code: int,
    snapshot: dict[str, Any] | None = None,
    clients: dict[str, Any] | None = None,
    redactions: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The machine-readable report of one run (the `--report` file's content). `snapshot` is the
    --snapshot outcome (counts, and the stale scopes with since when), when there is one;
    `clients` the retry settings and timeouts the AWS clients used ("retry", "timeouts");
    `redactions` the number of values redaction changed per field path (never the values), when
    the run redacts (not under --no-redact)."""
    report = {
        "started": format_utc_seconds(summary.started),
        "finished": format_utc_seconds(summary.finished),
        "exit_code": int(exit_code),
        "scopes": [_scope_entry(scope) for scope in summary.scopes],
        "discovery": _calls_entry(summary.discovery),
        "accounts": [
            {"account_id": a.account_id, "source": a.source, **_calls_entry(a)}
            for a in summary.accounts
        ],
        "totals": _totals(summary),
    }
    if snapshot is not None:
        report["snapshot"] = snapshot
    report.update(clients or {})
    if redactions is not None:
        report["redactions"] = dict(sorted(redactions.items()))
    return report


def _scope_entry(scope: ScopeResult) -> dict[str, Any]:
    return {
        "account_id": scope.account_id,
        "region": scope.region,
        "status": scope.status,
        "jobs": scope.jobs,
        "skipped": scope.skipped,
        "reused": scope.reused,
        "tags": scope.tag_path,
        "api_calls": dict(sorted(scope.api_calls.items())),
        "retries": scope.retries,
        "seconds": round(scope.seconds, 3),
        "error": scope.error.as_dict() if scope.error else None,
    }


def _calls_entry(calls: ApiCalls) -> dict[str, Any]:
    return {"api_calls": dict(sorted(calls.api_calls.items())), "retries": calls.retries}


def _all_calls(summary: RunSummary) -> list[ApiCalls | ScopeResult]:
    """Every counted set of requests: each scope's, the discovery's and each account's."""
    return [*summary.scopes, summary.discovery, *summary.accounts]


def _totals(summary: RunSummary) -> dict[str, Any]:
    scopes = summary.scopes
    calls: Counter[str] = Counter()
    for counted in _all_calls(summary):
        calls.update(counted.api_calls)
    return {
        "jobs": sum(s.jobs for s in scopes),
        "skipped": sum(s.skipped for s in scopes),
        "scopes_ok": sum(s.status == OK for s in scopes),
        "scopes_failed": sum(s.status == FAILED for s in scopes),
        "scopes_skipped": sum(s.status == SKIPPED for s in scopes),
        "api_calls": dict(sorted(calls.items())),
        "retries": sum(c.retries for c in _all_calls(summary)),
    }


def write_run_summary_file(
    path: str | os.PathLike[str], report: dict[str, Any], *, mode: int = 0o600
) -> None:
    """Replace `path` with the report, atomically (a reader never sees half a report)."""
    with atomic_writer(path, mode=mode) as stream:
        stream.write(run_summary_text(report))


def run_summary_text(report: dict[str, Any]) -> str:
    """The report as the --report file holds it, scrubbed of credentials (an error message may
    quote a request's headers)."""
    return scrub(json.dumps(report, indent=2)) + "\n"


def render_run_summary(summary: RunSummary, console: Console) -> None:
    """The run on stderr: per-scope table (terminal) or lines for scopes not collected (plain),
    jobs that vanished between List and Describe, and a one-line total. A quiet console (-q)
    still shows what was not collected, as plain lines: -q silences information, not errors."""
    if console.quiet:
        # Made only for a scope to report: a quiet run that went well does not load rich.
        failed = [scope for scope in summary.scopes if scope.status != OK]
        if failed:
            from rich.console import Console

            loud = Console(file=console.file, highlight=False, soft_wrap=console.soft_wrap)
            for scope in failed:
                _print_line(loud, _failure_line(scope))
        return
    if console.is_terminal:
        _print_table(summary, console)
    else:
        for scope in summary.scopes:
            if scope.status != OK:
                _print_line(console, _failure_line(scope))
    for scope in summary.scopes:
        for name in scope.skipped_jobs:
            _print_line(
                console, f"skipped {name} ({scope.region}): it vanished between List and Describe"
            )
    _print_line(console, _total_line(summary))


def _print_line(console: Console, line: str) -> None:
    # One line per fact, never wrapped, so that logs can be grepped.
    from sagemaker_inventory.output.table_fit import cell

    console.print(cell(f"smi: {line}"), soft_wrap=True)


def _print_table(summary: RunSummary, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from sagemaker_inventory.output.table_fit import cell

    scopes = summary.scopes
    shown = scopes if len(scopes) <= FULL_TABLE_SCOPES else [s for s in scopes if s.status != OK]
    if not shown:
        return
    title = "Scopes" if shown is scopes else "Scopes not collected"
    table = Table(title=title, title_justify="left", show_edge=False)
    for header in ("account", "region", "status"):
        table.add_column(header)
    for header in ("jobs", "API calls", "seconds"):
        table.add_column(header, justify="right")
    table.add_column("error")
    for scope in shown:
        style = {OK: "green", FAILED: "red"}.get(scope.status, "yellow")
        table.add_row(
            cell(scope.account_id or "?"),
            cell(scope.region),
            Text(scope.status, style=style),
            Text(str(scope.jobs)),
            Text(str(sum(scope.api_calls.values()))),
            Text(f"{scope.seconds:.1f}"),
            cell(_error_text(scope)),
        )
    console.print(table)


def _failure_line(scope: ScopeResult) -> str:
    account = scope.account_id or "(account unknown)"
    return f"{scope.status} {account} {scope.region}: {_error_text(scope)}"


def _error_text(scope: ScopeResult) -> str:
    error = scope.error
    return f"{error.code}: {error.message}" if error else ""


def _total_line(summary: RunSummary) -> str:
    scopes = summary.scopes
    ok = sum(s.status == OK for s in scopes)
    accounts = len({s.account_id for s in scopes})
    calls = sum(sum(c.api_calls.values()) for c in _all_calls(summary))
    retries = sum(c.retries for c in _all_calls(summary))
    seconds = (summary.finished - summary.started).total_seconds()
    return (
        f"{summary.jobs} jobs from {ok}/{len(scopes)} account x region scopes"
        f" ({_count(accounts, 'account')}) in {seconds:.1f}s;"
        f" {_count(calls, 'API call')}, {_count(retries, 'retry', 'retries')}"
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
