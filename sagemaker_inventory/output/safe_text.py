"""Neutralises job text that smi shows: control characters in tables, formulas in CSV cells.

A training container controls its FailureReason (and a user the job name, tags, hyperparameters):
escape sequences in it would retitle the terminal window, recolour or clear it, ring the bell or
hide text when a table is printed. `printable` shows every control character (C0, DEL, C1) and
bidirectional override as a visible escape (`\\x1b`, `\\u202e`), so the text stays readable and
inert; `table_fit.cell`, the one constructor of table cells (every table and chart of
`smi collect`, `smi report` and the run summary), applies it to every cell. `csv_cell` prefixes
a single quote to a CSV cell that a spreadsheet would run as a formula (starting with =, +, -, @,
tab or carriage return, as OWASP's CSV injection guidance recommends), except a plain number
such as -3 or +1.5e3: it cannot be a formula and stays a number. `--csv-raw` writes cells as
they are.
"""

from __future__ import annotations

import re

# C0 controls except newline (cells may span lines), DEL, C1 controls, and the Unicode
# bidirectional embeddings, overrides and isolates ("Trojan Source").
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def printable(text: str) -> str:
    """`text` with each control character written as a visible escape."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def csv_cell(text: str) -> str:
    """`text` made safe for a spreadsheet: a leading ' on a cell that would be a formula."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
