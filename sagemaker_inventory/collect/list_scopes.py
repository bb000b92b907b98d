"""`smi collect --list-scopes`: the account x region scopes a run would collect, without collecting.

Accounts come from the same resolution as a run (--org, accounts files, --exclude-account, roles);
an account reached through a profile or the default credentials is named by one STS
GetCallerIdentity call, as the run would. Text lines by default; jsonl, json or csv with -f.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sagemaker_inventory.collect.run import resolve_account_ids
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.records.record import record_json

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory
    from sagemaker_inventory.collect.scopes import AccountSource, Scope

FIELDS = ("account_id", "region", "via")


def print_scopes(scopes: Sequence[Scope], factory: SessionFactory, fmt: str) -> ExitCode:
    """Write one row per scope to stdout in `fmt` (text, jsonl, json, csv); always exit 0, since
    nothing was collected: an account whose identity cannot be read shows as "?" with a warning."""
    accounts = resolve_account_ids(scopes, factory)
    rows = [scope_row(scope, accounts.get(scope.source)) for scope in scopes]
    for source, account in accounts.items():
        if account is None:
            print(f"smi: warning: cannot tell the account of {source.label}", file=sys.stderr)
    _write_rows(rows, fmt)
    return ExitCode.OK


def scope_row(scope: Scope, account: str | None) -> dict[str, str]:
    known = account if account is not None else scope.source.account_id
    return {"account_id": known or "?", "region": scope.region, "via": reached_by(scope.source)}


def reached_by(source: AccountSource) -> str:
    """How smi reaches an account: its role ARN (assumed), a profile, or the default chain."""
    if source.role_arn:
        base = f" from profile {source.base_profile}" if source.base_profile else ""
        return f"assume {source.role_arn}{base}"
    return source.label


def _write_rows(rows: list[dict[str, str]], fmt: str) -> None:
    out = sys.stdout
    if fmt == "jsonl":
        for row in rows:
            out.write(record_json(row) + "\n")
    elif fmt == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        width = max((len(row["account_id"]) for row in rows), default=12)
        region_width = max((len(row["region"]) for row in rows), default=9)
        for row in rows:
            out.write(
                f"{row['account_id']:<{width}}  {row['region']:<{region_width}}  {row['via']}\n"
            )
    out.flush()
