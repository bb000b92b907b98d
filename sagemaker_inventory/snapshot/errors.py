"""The errors of `--snapshot` that the run and the click layer catch, in a module of their own so
that a run without a snapshot does not load the snapshot's code to name them."""

from __future__ import annotations


class SnapshotError(ValueError):
    """The snapshot (or its sidecar) cannot be read as one: message names FILE:LINE."""


class SnapshotCancelled(Exception):
    """The run was stopped before the new snapshot was moved into place: nothing was changed."""


class JournalRefused(SnapshotError):
    """FILE.commit.json names something other than smi's temporary files becoming the files of
    the snapshot's set: nothing was renamed or removed (exit 2, one line naming the journal)."""


def shown(value: object) -> str:
    """A value read from a commit journal as one short line (a planted journal may hold
    anything, newlines included), for the message that refuses it."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
