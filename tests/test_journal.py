"""Issue 19.8: a commit journal names only smi's own files.

A FILE.commit.json planted beside a snapshot made the next run rename any file the user could
write, anywhere (a shared volume was enough to replace ~/.aws/config). Recovery now replays only
renames of smi's temporary files (`.NAME.PID.RANDOM.tmp` beside NAME) into the snapshot, its
sidecar and the run's --changes; anything else is refused (exit 2, one line naming the journal)
with every file left as it was, the journal and the planted files included."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sagemaker_inventory.cli import cli
from sagemaker_inventory.snapshot.errors import JournalRefused
from sagemaker_inventory.snapshot.index import SnapshotSettings, meta_path_for
from sagemaker_inventory.snapshot.journal import MAX_JOURNAL_BYTES, journal_path_for
from sagemaker_inventory.snapshot.lock import lock_path_for
from sagemaker_inventory.snapshot.run_outcome import RunOutcome
from sagemaker_inventory.snapshot.writer import snapshot_session

ACCOUNT, REGION = "123456789012", "us-east-1"
NEW_LINE = (
    json.dumps(
        {
            "account_id": ACCOUNT,
            "training_job_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/new",
            "training_job_name": "new",
        }
    )
    + "\n"
)


def temp_for(target: Path, pid: int = 4242, tail: str = "a1b2c3d_") -> Path:
    """A name smi's writers give the temporary file of `target`."""
    return target.with_name(f".{target.name}.{pid}.{tail}.tmp")


def plant(snap: Path, renames: list[list[str]] | None = None, raw: str | None = None) -> Path:
    journal = journal_path_for(snap)
    journal.write_text(raw if raw is not None else json.dumps({"format": 1, "renames": renames}))
    return journal


def tree(root: Path) -> dict[str, Any]:
    """Every entry under `root` as what it is: a link's target, a file's bytes, a mark."""
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[name] = ("link", str(path.readlink()))
        elif stat.S_ISREG(mode):
            found[name] = ("file", path.read_bytes())
        else:
            found[name] = ("other", stat.S_IFMT(mode))
    return found


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    """A snapshot directory as a run leaves it: FILE, its sidecar and its lock."""
    shared = tmp_path / "shared"
    shared.mkdir()
    path = shared / "inv.jsonl"
    path.write_text("")
    meta_path_for(path).write_text("")
    lock_path_for(path).write_text("")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A directory outside the snapshot's with a file an attacker would like replaced."""
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text("[default]\nregion = us-east-1\n")
    return aws


def open_session(snap: Path, changes: Path | None = None) -> None:
    with snapshot_session(snap, SnapshotSettings(), changes=changes):
        pass


def refused(snap: Path, root: Path, changes: Path | None = None) -> str:
    """Open the snapshot as the next run would; it must refuse and leave every file as it was."""
    before = tree(root)
    with pytest.raises(JournalRefused) as caught:
        open_session(snap, changes)
    assert tree(root) == before
    message = str(caught.value)
    assert str(journal_path_for(snap)) in message and "\n" not in message
    return message


def _other_directory(snap: Path, home: Path) -> list[list[str]]:
    evil = home / ".config.4242.a1b2c3d_.tmp"
    evil.write_text("[default]\ncredential_process = /bin/evil\n")
    return [[str(evil), str(home / "config")]]


def _shared_file_onto_config(snap: Path, home: Path) -> list[list[str]]:
    planted = snap.with_name("payload")
    planted.write_text("[default]\ncredential_process = /bin/evil\n")
    return [[str(planted), str(home / "config")]]


def _dot_dot_target(snap: Path, home: Path) -> list[list[str]]:
    target = f"{snap.parent}/../shared/{snap.name}"
    temp_for(snap).write_text(NEW_LINE)
    return [[str(temp_for(snap)), target]]


def _dot_dot_temp(snap: Path, home: Path) -> list[list[str]]:
    temp_for(snap).write_text(NEW_LINE)
    return [[f"{snap.parent}/../shared/{temp_for(snap).name}", str(snap)]]


def _relative(snap: Path, home: Path) -> list[list[str]]:
    temp_for(snap).write_text(NEW_LINE)
    return [[temp_for(snap).name, snap.name]]


def _temp_in_another_directory(snap: Path, home: Path) -> list[list[str]]:
    temp = home / temp_for(snap).name
    temp.write_text(NEW_LINE)
    return [[str(temp), str(snap)]]


def _not_a_temporary_name(snap: Path, home: Path) -> list[list[str]]:
    temp = snap.with_name("notes.txt")
    temp.write_text(NEW_LINE)
    return [[str(temp), str(snap)]]


def _temporary_of_another_file(snap: Path, home: Path) -> list[list[str]]:
    temp = temp_for(meta_path_for(snap))
    temp.write_text(NEW_LINE)
    return [[str(temp), str(snap)]]


def _temp_is_a_symlink(snap: Path, home: Path) -> list[list[str]]:
    temp_for(snap).symlink_to(home / "config")
    return [[str(temp_for(snap)), str(snap)]]


def _temp_is_a_hard_link(snap: Path, home: Path) -> list[list[str]]:
    other = snap.with_name("elsewhere")
    other.write_text(NEW_LINE)
    os.link(other, temp_for(snap))
    return [[str(temp_for(snap)), str(snap)]]


def _temp_is_a_directory(snap: Path, home: Path) -> list[list[str]]:
    temp_for(snap).mkdir()
    return [[str(temp_for(snap)), str(snap)]]


def _target_is_a_symlink(snap: Path, home: Path) -> list[list[str]]:
    sidecar = meta_path_for(snap)
    sidecar.unlink()
    sidecar.symlink_to(home / "config")
    temp_for(sidecar).write_text("{}\n")
    return [[str(temp_for(sidecar)), str(sidecar)]]


def _the_lock_as_target(snap: Path, home: Path) -> list[list[str]]:
    lock = lock_path_for(snap)
    temp_for(lock).write_text("")
    return [[str(temp_for(lock)), str(lock)]]


def _target_twice(snap: Path, home: Path) -> list[list[str]]:
    first, second = temp_for(snap), temp_for(snap, tail="zzzzzzzz")
    first.write_text(NEW_LINE)
    second.write_text(NEW_LINE)
    return [[str(first), str(snap)], [str(second), str(snap)]]


def _a_nul_in_a_path(snap: Path, home: Path) -> list[list[str]]:
    return [[str(temp_for(snap)) + "\0x", str(snap)]]


def _a_changes_file_this_run_does_not_name(snap: Path, home: Path) -> list[list[str]]:
    changes = snap.with_name("delta.jsonl")
    temp_for(changes).write_text(NEW_LINE)
    return [[str(temp_for(changes)), str(changes)]]


NOT_IN_SET = "is not the snapshot, its sidecar or this run's --changes"
NOT_NORMAL = "is not an absolute path in normal form"
NOT_ITS_TEMPORARY = "is not smi's temporary file for"
NOT_PLAIN = "is not a regular file with one link"
# Each planted journal, and the reason the refusal must give.
PLANTED: dict[str, tuple[Callable[[Path, Path], list[list[str]]], str]] = {
    "a temporary in another directory onto a file there": (_other_directory, NOT_IN_SET),
    "a file of the shared directory onto a file elsewhere": (_shared_file_onto_config, NOT_IN_SET),
    "a target with ..": (_dot_dot_target, NOT_NORMAL),
    "a temporary with ..": (_dot_dot_temp, NOT_NORMAL),
    "relative paths": (_relative, NOT_NORMAL),
    "a temporary in another directory onto the snapshot": (
        _temp_in_another_directory,
        NOT_ITS_TEMPORARY,
    ),
    "a file that is not a temporary name": (_not_a_temporary_name, NOT_ITS_TEMPORARY),
    "the temporary of another file": (_temporary_of_another_file, NOT_ITS_TEMPORARY),
    "a temporary that is a symlink": (_temp_is_a_symlink, NOT_PLAIN),
    "a temporary with a second hard link": (_temp_is_a_hard_link, NOT_PLAIN),
    "a temporary that is a directory": (_temp_is_a_directory, NOT_PLAIN),
    "a target that is a symlink": (_target_is_a_symlink, "is not a regular file (a symbolic"),
    "the lock as a target": (_the_lock_as_target, NOT_IN_SET),
    "one target twice": (_target_twice, "twice"),
    "a NUL in a path": (_a_nul_in_a_path, NOT_NORMAL),
    "a --changes file this run does not name": (
        _a_changes_file_this_run_does_not_name,
        "run again with the same --changes",
    ),
}


@pytest.mark.parametrize("shape", PLANTED)
def test_a_journal_naming_anything_but_smis_temporaries_into_the_set_is_refused(
    shape: str, snap: Path, home: Path, tmp_path: Path
) -> None:
    make, reason = PLANTED[shape]
    plant(snap, make(snap, home))
    assert reason in refused(snap, tmp_path)


MALFORMED = {
    "not JSON": "{not json",
    "not UTF-8": "\udcff",
    "a list": "[]",
    "an extra member": json.dumps({"format": 1, "renames": [], "run": "x"}),
    "no renames": json.dumps({"format": 1}),
    "another format": json.dumps({"format": 2, "renames": []}),
    "a format that is a string": json.dumps({"format": "1", "renames": []}),
    "a format that is true": json.dumps({"format": True, "renames": []}),
    "no rename": json.dumps({"format": 1, "renames": []}),
    "renames that are an object": json.dumps({"format": 1, "renames": {"a": "b"}}),
    "a rename of three paths": json.dumps({"format": 1, "renames": [["/a", "/b", "/c"]]}),
    "a rename that is not paths": json.dumps({"format": 1, "renames": [[1, 2]]}),
    "more renames than a set has files": json.dumps(
        {"format": 1, "renames": [[f"/x/.y.1.a{n}.tmp", "/x/y"] for n in range(4)]}
    ),
    "nested without end": "[" * 100_000,
}


@pytest.mark.parametrize("shape", MALFORMED)
def test_a_journal_that_is_not_smis_document_is_refused(
    shape: str, snap: Path, tmp_path: Path
) -> None:
    journal = journal_path_for(snap)
    journal.write_bytes(MALFORMED[shape].encode("utf-8", "surrogateescape"))
    refused(snap, tmp_path)


def test_a_huge_journal_is_refused_unread(snap: Path, tmp_path: Path) -> None:
    pairs = [[str(temp_for(snap)), str(snap)]] * (MAX_JOURNAL_BYTES // 40)
    plant(snap, pairs)
    assert journal_path_for(snap).stat().st_size > MAX_JOURNAL_BYTES
    assert "larger than" in refused(snap, tmp_path)


def test_a_journal_that_is_a_symlink_is_refused(snap: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    temp_for(snap).write_text(NEW_LINE)
    elsewhere.write_text(json.dumps({"format": 1, "renames": [[str(temp_for(snap)), str(snap)]]}))
    journal_path_for(snap).symlink_to(elsewhere)
    assert "symbolic link" in refused(snap, tmp_path)


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["fifo", "directory"])
def test_a_journal_that_is_not_a_file_is_refused_without_waiting(
    make: Callable[[Path], None], snap: Path, tmp_path: Path
) -> None:
    make(journal_path_for(snap))
    assert "not a regular file" in refused(snap, tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
@pytest.mark.parametrize("owned", ["journal", "temporary"])
def test_files_of_another_user_are_refused(owned: str, snap: Path, tmp_path: Path) -> None:
    temp_for(snap).write_text(NEW_LINE)
    journal = plant(snap, [[str(temp_for(snap)), str(snap)]])
    os.chown(journal if owned == "journal" else temp_for(snap), 65534, 65534)
    assert "uid 65534" in refused(snap, tmp_path)


def test_the_command_refuses_a_planted_journal_in_one_line_and_exit_2(
    snap: Path, home: Path, tmp_path: Path
) -> None:
    """Regression: the journal renamed a file of the shared volume onto ~/.aws/config."""
    plant(snap, _shared_file_onto_config(snap, home))
    before = tree(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["collect", "--demo", "-q", "--snapshot", str(snap), "-o", str(tmp_path / "out.jsonl")],
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"smi: error: {journal_path_for(snap)}: refused: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert tree(tmp_path) == before


# What a killed run legitimately leaves: recovered, not refused.


def test_a_journal_of_smis_temporaries_is_replayed(snap: Path) -> None:
    changes = snap.with_name("delta.jsonl")
    contents = {snap: NEW_LINE, meta_path_for(snap): "", changes: ""}
    renames = []
    for target, content in contents.items():
        temp_for(target).write_text(content)
        renames.append([str(temp_for(target)), str(target)])
    plant(snap, renames)
    open_session(snap, changes)
    assert snap.read_text() == NEW_LINE
    assert not journal_path_for(snap).exists()
    assert not any(temp_for(target).exists() for target in contents)


@pytest.mark.parametrize("left", [0, 1, 2])
def test_a_journal_whose_temporaries_were_partly_renamed_finishes(left: int, snap: Path) -> None:
    """A crash after some renames (or all of them, before the journal was removed)."""
    changes = snap.with_name("delta.jsonl")
    targets = [snap, meta_path_for(snap), changes]
    for target in targets[3 - left :]:
        temp_for(target).write_text(f"new {target.name}\n")
    for target in targets[: 3 - left]:
        target.write_text(f"new {target.name}\n" if target != snap else NEW_LINE)
    plant(snap, [[str(temp_for(t)), str(t)] for t in targets])
    open_session(snap, changes)
    assert not journal_path_for(snap).exists()
    assert [t.read_text() for t in targets[1:]] == [f"new {t.name}\n" for t in targets[1:]]


def test_a_symlink_planted_at_the_sidecar_or_journal_during_a_run_is_not_followed(
    snap: Path, home: Path
) -> None:
    """The sidecar and the journal are smi's own: a symlink found at their names is replaced by
    the commit, never written through (it would have replaced ~/.aws/config with JSON)."""
    config = (home / "config").read_bytes()
    with snapshot_session(snap, SnapshotSettings()) as writer:
        meta_path_for(snap).unlink()
        meta_path_for(snap).symlink_to(home / "config")
        journal_path_for(snap).symlink_to(home / "other")

        def check(step: str) -> None:
            if step == "journal":
                assert not journal_path_for(snap).is_symlink()

        writer.step = check
        writer.commit(RunOutcome(datetime.now(timezone.utc), []))
    assert (home / "config").read_bytes() == config
    assert not (home / "other").exists()
    assert not meta_path_for(snap).is_symlink()
    assert json.loads(meta_path_for(snap).read_text())["records"] == 0
