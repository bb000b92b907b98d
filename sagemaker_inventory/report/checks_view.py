"""Rich rendering of `smi report --checks`: one row per check, failures per group, the findings.

Every table is fitted to the console's width by `table_fit`: one line per cell, the job name (or
the group key) never dropped nor cut, a finding's detail cut first, then columns dropped (named
under the table) in this order: Account, Region in a findings table; the check columns from the
last (Secr) to the first, then Jobs, then Findings in the per-group table; N/A, Passed, Sev,
Failed % in the checks table.

Every cell of user text is made by `table_fit.cell` (job names and details are user data that may
look like markup or carry escape sequences).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from sagemaker_inventory.output.table_fit import PINNED, FitColumn, cell, print_fitted
from sagemaker_inventory.report.checks import CHECKS, Finding, Posture
from sagemaker_inventory.report.view import bar

FAILED_BAR_WIDTH = 8
KEY_MIN_WIDTH = 16
DETAIL_MIN_WIDTH = 24
# Narrow headers for the per-group table, so six checks and a key fit 80 columns.
SHORT_NAMES = {
    "network_isolation": "Isol",
    "inter_container_encryption": "ICE",
    "volume_encryption": "Vol",
    "output_encryption": "Out",
    "vpc": "VPC",
    "secrets_in_environment": "Secr",
}
_SEVERITY_STYLES = {"high": "bold red", "medium": "yellow", "low": ""}


def _cell(value: str | None) -> Text:
    return Text("(none)", style="dim") if value is None else cell(value)


def _print_checks_table(posture: Posture, console: Console) -> None:
    columns = [
        FitColumn("Check", PINNED),
        FitColumn("Sev", 3),
        FitColumn("Passed", 4, justify="right"),
        FitColumn("Failed", 1, justify="right"),
        FitColumn("N/A", 5, justify="right"),
        FitColumn("Failed %", 2),
    ]
    rows = []
    for check in CHECKS:
        count = posture.counts[check.id]
        applicable = count.passed + count.failed
        share = (
            Text("—") if not applicable else bar(count.failed, applicable, FAILED_BAR_WIDTH, "red")
        )
        if applicable:
            share.append(f" {count.failed / applicable:.0%}")
        rows.append(
            [
                Text(check.id),
                Text(check.severity, style=_SEVERITY_STYLES.get(check.severity, "")),
                Text(f"{count.passed:,}"),
                Text(f"{count.failed:,}", style="red" if count.failed else ""),
                Text(f"{count.not_applicable:,}", style="dim"),
                share,
            ]
        )
    caption = Text(
        "Passed and Failed count jobs the check applies to; N/A: single-instance jobs "
        "(inter-container), local NVMe storage (volume key)"
    )
    title = Text(f"Posture of {posture.jobs:,} training jobs")
    print_fitted(console, columns, rows, title=title, caption=caption)


def _print_groups_table(posture: Posture, console: Console) -> None:
    columns = [FitColumn(dimension, PINNED, shrink=KEY_MIN_WIDTH) for dimension in posture.by]
    columns += [FitColumn("Jobs", 2, justify="right"), FitColumn("Findings", 1, justify="right")]
    columns += [
        FitColumn(SHORT_NAMES[check.id], 3 + index, justify="right")
        for index, check in enumerate(CHECKS)
    ]
    rows = [
        [
            *[_cell(part) for part in key],
            Text(f"{group.jobs:,}"),
            Text(f"{group.findings:,}", style="red" if group.findings else ""),
            *[Text(f"{group.failed[check.id]:,}") for check in CHECKS],
        ]
        for key, group in posture.ordered_groups()
    ]
    caption = Text(
        " ".join(f"{SHORT_NAMES[check.id]} = {check.id};" for check in CHECKS).rstrip(";")
    )
    title = cell(f"Failed checks by {', '.join(posture.by)}")
    print_fitted(console, columns, rows, title=title, caption=caption)


def _print_findings_table(
    check_id: str, title: str, findings: list[Finding], console: Console
) -> None:
    # The job name is never cut; the detail is cut first, then region and account are dropped.
    columns = [
        FitColumn("Job", PINNED),
        FitColumn("Account", 3),
        FitColumn("Region", 2),
        FitColumn("Detail", 1, shrink=DETAIL_MIN_WIDTH),
    ]
    rows = [
        [
            cell(finding.training_job_name),
            _cell(finding.account_id),
            _cell(finding.region),
            cell(finding.detail),
        ]
        for finding in sorted(
            findings, key=lambda f: (f.account_id or "", f.region or "", f.training_job_name)
        )
    ]
    heading = Text(f"{check_id}: {len(findings):,} failing ({title})")
    print_fitted(console, columns, rows, title=heading)


def render_checks(posture: Posture, console: Console) -> None:
    """The --checks view: the per-check summary, failures per group (--by), then the findings."""
    if not posture.jobs:
        console.print(Text("No training jobs in the inventory."))
        return
    _print_checks_table(posture, console)
    if posture.by:
        _print_groups_table(posture, console)
    for check in CHECKS:
        failing = [f for f in posture.findings if f.check == check.id]
        if failing:
            _print_findings_table(check.id, check.title, failing, console)
    if not posture.total_findings:
        console.print(Text("No findings: every job passes every check that applies to it."))
