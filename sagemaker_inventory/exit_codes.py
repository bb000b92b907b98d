"""The process exit codes smi promises (documented in `smi --help` and the README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every scope collected
    NOTHING_COLLECTED = 1  # no scope could be collected (e.g. no credentials)
    USAGE = 2  # bad option, value or file; nothing was collected
    PARTIAL = 3  # some scopes failed; every record of the others was written
    LOCKED = 4  # another run holds the --snapshot FILE's lock; nothing was done
    WRITE_FAILED = 5  # a file or stdout could not be written; files keep their previous content
    FINDINGS = 6  # smi report --checks --fail-on-findings: at least one check failed
    DRIFT = 7  # smi schema --drift --strict: the API and the documented shape differ
    INTERRUPTED = 130  # SIGINT
    TERMINATED = 143  # SIGTERM
