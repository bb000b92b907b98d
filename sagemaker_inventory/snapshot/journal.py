"""The commit journal FILE.commit.json: which of smi's temporary files becomes which file.

A journal lies in the snapshot's directory, which other people may be able to write (a shared
volume), and the next run acts on it by renaming files: so `read_journal` trusts nothing in it.
It replays a rename only when the source is one of smi's own temporary files for that very target
(`.NAME.PID.RANDOM.tmp` in the target's directory, a regular file of this user with one link) and
the target is one of the files this run names as its set (the snapshot, its sidecar, its
--changes). Anything else (a symlink, a path with `..`, another directory, another target, a
journal that is not smi's JSON, too large, or not this user's) raises `JournalRefused` before
anything is renamed or removed. A source that no longer exists was renamed before the crash: it
is skipped. `write_journal` writes the journal without following a symlink planted in its place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any, NoReturn

from sagemaker_inventory.output.files import TEMP_SUFFIX, temporary_name_pattern, writing
from sagemaker_inventory.snapshot.errors import JournalRefused, shown

JOURNAL_SUFFIX = ".commit.json"
JOURNAL_FORMAT = 1
# A journal smi writes holds at most one rename per file of the set: a few KB even with long paths.
MAX_JOURNAL_BYTES = 64 * 1024
MAX_RENAMES = 3
Rename = tuple[Path, Path]  # (smi's temporary file, the file of the set it becomes)


def journal_path_for(snapshot: str | os.PathLike[str]) -> Path:
    """FILE.commit.json beside FILE: present only between a commit point and its last rename."""
    path = Path(snapshot)
    return path.with_name(path.name + JOURNAL_SUFFIX)


def write_journal(journal: Path, renames: list[Rename], mode: int) -> None:
    """Write the journal atomically, replacing whatever is at its name (a symlink is replaced,
    never followed: the journal is smi's own file)."""
    document = {"format": JOURNAL_FORMAT, "renames": [[str(a), str(b)] for a, b in renames]}
    name = str(journal)
    with writing(name):
        fd, temp_name = tempfile.mkstemp(
            dir=journal.parent, prefix=f".{journal.name}.{os.getpid()}.", suffix=TEMP_SUFFIX
        )
    temp = Path(temp_name)
    try:
        with writing(name), os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(document) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
            temp.chmod(mode)
            temp.replace(journal)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def read_journal(journal: Path, targets: Collection[Path]) -> list[Rename] | None:
    """The renames left to do by the run that wrote `journal` (None: there is no journal).

    `targets` are the files of the set, resolved. Raises JournalRefused (nothing touched)
    unless every rename is one of smi's temporary files into one of them."""
    document = _load(journal)
    if document is None:
        return None
    renames = _renames_of(journal, document)
    allowed = {str(target) for target in targets}
    seen: set[str] = set()
    for temp, target in renames:
        _check_rename(journal, temp, target, allowed)
        if str(temp) in seen or str(target) in seen:
            _refuse(journal, f"names {shown(str(target))} twice")
        seen.update((str(temp), str(target)))
    return renames


def _load(journal: Path) -> object:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(journal, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        reason = "a symbolic link" if error.errno == errno.ELOOP else error.strerror
        _refuse(journal, f"cannot be read ({reason})")
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            _refuse(journal, "not a regular file")
        if status.st_uid != os.geteuid():
            _refuse(journal, f"owned by uid {status.st_uid}, not by this user")
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(MAX_JOURNAL_BYTES + 1)
    except OSError as error:
        _refuse(journal, f"cannot be read ({error.strerror})")
    finally:
        os.close(fd)
    try:
        return journal_document(data, MAX_JOURNAL_BYTES)
    except ValueError as error:
        _refuse(journal, str(error))


def journal_document(data: bytes, limit: int) -> object:
    """The JSON document a journal's bytes hold (read up to `limit` + 1 bytes); ValueError saying
    why not, for the refusal: a planted journal may be huge, not UTF-8, or nested past recursion."""
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("not a JSON document") from None


def _renames_of(journal: Path, document: object) -> list[Rename]:
    """The document's renames, if it has smi's shape exactly."""
    if not isinstance(document, dict) or set(document) != {"format", "renames"}:
        _refuse(journal, 'not an object with exactly the members "format" and "renames"')
    if type(document["format"]) is not int or document["format"] != JOURNAL_FORMAT:
        _refuse(journal, f"format {shown(document['format'])} is not {JOURNAL_FORMAT}")
    renames: Any = document["renames"]
    if not isinstance(renames, list) or not 1 <= len(renames) <= MAX_RENAMES:
        _refuse(journal, f'"renames" is not a list of 1 to {MAX_RENAMES} renames')
    for pair in renames:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            _refuse(journal, f"rename {shown(pair)} is not two paths")
    return [(Path(temp), Path(target)) for temp, target in renames]


def _check_rename(journal: Path, temp: Path, target: Path, allowed: set[str]) -> None:
    for path in (temp, target):
        text = str(path)
        if not path.is_absolute() or os.path.normpath(text) != text or "\0" in text:
            _refuse(journal, f"{shown(text)} is not an absolute path in normal form")
    if str(target) not in allowed:
        _refuse(
            journal,
            f"{shown(str(target))} is not the snapshot, its sidecar or this run's --changes"
            " (after a crash, run again with the same --changes to finish that commit)",
        )
    pattern = temporary_name_pattern(target.name)
    if temp.parent != target.parent or not pattern.fullmatch(temp.name):
        _refuse(journal, f"{shown(str(temp))} is not smi's temporary file for {target}")
    try:
        source = temp.lstat()
    except FileNotFoundError:
        return  # renamed before the crash
    except OSError as error:
        _refuse(journal, f"{shown(str(temp))} cannot be examined ({error.strerror})")
    if not stat.S_ISREG(source.st_mode) or source.st_nlink != 1:
        _refuse(journal, f"{shown(str(temp))} is not a regular file with one link")
    if source.st_uid != os.geteuid():
        _refuse(journal, f"{shown(str(temp))} is owned by uid {source.st_uid}, not this user")
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(target.lstat().st_mode):
            _refuse(journal, f"{target} is not a regular file (a symbolic link?)")


def _refuse(journal: Path, reason: str) -> NoReturn:
    raise JournalRefused(
        f"{journal}: refused: {reason}; nothing was renamed or removed (smi writes this file "
        "only between two steps of a commit: remove it if no smi run of yours left it)"
    )
