"""Rich rendering of `smi report --checks`: one row per check, failures per group, the findings.

Every cell of user text is made by `table_fit.cell` (job names and details are user data that may
look like markup or carry escape sequences).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sagemaker_inventory.output.table_fit import cell
from sagemaker_inventory.report.checks import CHECKS, Finding, Posture
from sagemaker_inventory.report.view import bar

FAILED_BAR_WIDTH = 8
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


def _checks_table(posture: Posture) -> Table:
    table = Table(title=Text(f"Posture of {posture.jobs:,} training jobs"))
    table.add_column(Text("Check"), no_wrap=True)
    table.add_column(Text("Sev"), no_wrap=True)
    for header in ("Passed", "Failed", "N/A"):
        table.add_column(Text(header), justify="right", no_wrap=True)
    table.add_column(Text("Failed %"), no_wrap=True)
    for check in CHECKS:
        count = posture.counts[check.id]
        applicable = count.passed + count.failed
        share = (
            Text("—") if not applicable else bar(count.failed, applicable, FAILED_BAR_WIDTH, "red")
        )
        if applicable:
            share.append(f" {count.failed / applicable:.0%}")
        table.add_row(
            Text(check.id),
            Text(check.severity, style=_SEVERITY_STYLES.get(check.severity, "")),
            Text(f"{count.passed:,}"),
            Text(f"{count.failed:,}", style="red" if count.failed else ""),
            Text(f"{count.not_applicable:,}", style="dim"),
            share,
        )
    table.caption = Text(
        "Passed and Failed count jobs the check applies to; N/A: single-instance jobs "
        "(inter-container), local NVMe storage (volume key)"
    )
    return table


def _groups_table(posture: Posture) -> Table:
    table = Table(title=cell(f"Failed checks by {', '.join(posture.by)}"))
    for dimension in posture.by:
        table.add_column(cell(dimension), overflow="fold", min_width=8)
    table.add_column(Text("Jobs"), justify="right", no_wrap=True)
    table.add_column(Text("Findings"), justify="right", no_wrap=True)
    for check in CHECKS:
        table.add_column(Text(SHORT_NAMES[check.id]), justify="right", no_wrap=True)
    for key, group in posture.ordered_groups():
        table.add_row(
            *[_cell(part) for part in key],
            Text(f"{group.jobs:,}"),
            Text(f"{group.findings:,}", style="red" if group.findings else ""),
            *[Text(f"{group.failed[check.id]:,}") for check in CHECKS],
        )
    table.caption = Text(
        " ".join(f"{SHORT_NAMES[check.id]} = {check.id};" for check in CHECKS).rstrip(";")
    )
    return table


def _findings_table(check_id: str, title: str, findings: list[Finding]) -> Table:
    table = Table(title=Text(f"{check_id}: {len(findings):,} failing ({title})"))
    table.add_column(Text("Job"), overflow="fold", min_width=12)
    table.add_column(Text("Account"), no_wrap=True)
    table.add_column(Text("Region"), no_wrap=True)
    table.add_column(Text("Detail"), overflow="fold", min_width=12)
    for finding in sorted(
        findings, key=lambda f: (f.account_id or "", f.region or "", f.training_job_name)
    ):
        table.add_row(
            cell(finding.training_job_name),
            _cell(finding.account_id),
            _cell(finding.region),
            cell(finding.detail),
        )
    return table


def render_checks(posture: Posture, console: Console) -> None:
    """The --checks view: the per-check summary, failures per group (--by), then the findings."""
    if not posture.jobs:
        console.print(Text("No training jobs in the inventory."))
        return
    console.print(_checks_table(posture))
    if posture.by:
        console.print(_groups_table(posture))
    for check in CHECKS:
        failing = [f for f in posture.findings if f.check == check.id]
        if failing:
            console.print(_findings_table(check.id, check.title, failing))
    if not posture.total_findings:
        console.print(Text("No findings: every job passes every check that applies to it."))
