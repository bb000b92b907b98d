"""Tests for atomic output files and the up-front destination check."""

from __future__ import annotations

import csv
import os
import stat
import threading
from pathlib import Path

import pytest

from sagemaker_inventory.output.files import DestinationError, atomic_writer, check_destination


def _entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_writes_new_file_with_content_and_0600(tmp_path: Path) -> None:
    target = tmp_path / "jobs.jsonl"
    with atomic_writer(target) as stream:
        stream.write('{"a":1}\n')
    assert target.read_bytes() == b'{"a":1}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _entries(tmp_path) == ["jobs.jsonl"]


def test_mode_applies_over_existing_wider_file(tmp_path: Path) -> None:
    target = tmp_path / "jobs.csv"
    target.write_text("old\n")
    target.chmod(0o644)
    with atomic_writer(target) as stream:
        stream.write("new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_explicit_mode_ignores_umask(tmp_path: Path) -> None:
    target = tmp_path / "shared.json"
    old_umask = os.umask(0o077)
    try:
        with atomic_writer(target, mode=0o640) as stream:
            stream.write("[]\n")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_leaves_existing_file_byte_identical(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "jobs.json"
    original = b'[{"training_job_name":"keep-me"}]\r\n\x00tail'
    target.write_bytes(original)
    target.chmod(0o644)
    with pytest.raises(type(error)), atomic_writer(target) as stream:
        stream.write("partial output that must never land")
        stream.flush()
        raise error
    assert target.read_bytes() == original
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert _entries(tmp_path) == ["jobs.json"]


def test_failure_without_existing_target_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    with pytest.raises(ValueError), atomic_writer(target) as stream:
        stream.write("x")
        raise ValueError("bad record")
    assert _entries(tmp_path) == []


def test_temp_file_is_hidden_and_beside_target_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "jobs.csv"
    with atomic_writer(target) as stream:
        stream.write("x")
        names = _entries(tmp_path)
    assert len(names) == 1
    assert names[0].startswith(".jobs.csv.")
    assert names[0].endswith(".tmp")


def test_the_temporary_file_is_written_at_the_commit_not_record_by_record(
    tmp_path: Path,
) -> None:
    # Flushing each record (as the JSON lines sink does, for readers of a pipe) into a file no
    # one reads before the rename was a system call per record.
    target = tmp_path / "jobs.jsonl"
    with atomic_writer(target) as stream:
        stream.write("{}\n")
        stream.flush()
        [temp] = [tmp_path / name for name in _entries(tmp_path)]
        assert temp.stat().st_size == 0
    assert target.read_text() == "{}\n"


def test_newline_is_untranslated_so_csv_controls_line_endings(tmp_path: Path) -> None:
    target = tmp_path / "jobs.csv"
    with atomic_writer(target) as stream:
        csv.writer(stream).writerow(["a", "line1\nline2"])
        stream.write("jsonl\n")
    assert target.read_bytes() == b'a,"line1\nline2"\r\njsonl\n'


def test_utf8_by_default(tmp_path: Path) -> None:
    target = tmp_path / "jobs.jsonl"
    with atomic_writer(target) as stream:
        stream.write("entraînement ✓\n")
    assert target.read_bytes() == "entraînement ✓\n".encode()


def test_relative_path_in_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with atomic_writer("out.jsonl") as stream:
        stream.write("{}\n")
    check_destination("out.jsonl")
    assert (tmp_path / "out.jsonl").read_text() == "{}\n"


def test_check_destination_accepts_new_and_existing_files(tmp_path: Path) -> None:
    check_destination(tmp_path / "new.csv")
    (tmp_path / "old.csv").write_text("x")
    check_destination(tmp_path / "old.csv")


def test_check_destination_missing_directory(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "jobs.csv"
    with pytest.raises(DestinationError, match="does not exist") as caught:
        check_destination(target)
    assert str(target) in str(caught.value)


def test_check_destination_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DestinationError, match="is not a directory"):
        check_destination(tmp_path / "file" / "jobs.csv")


def test_check_destination_path_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(DestinationError, match="is a directory"):
        check_destination(tmp_path / "out")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root bypasses permission bits")
def test_check_destination_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(DestinationError, match="not writable"):
            check_destination(locked / "jobs.csv")
    finally:
        locked.chmod(0o700)


def test_destination_error_is_a_value_error() -> None:
    assert issubclass(DestinationError, ValueError)


def test_check_destination_reports_unwritable_when_access_is_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Runs also as root, where real permission bits would not stop the write.
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    with pytest.raises(DestinationError, match="not writable"):
        check_destination(tmp_path / "jobs.csv")


def test_a_device_is_written_in_place_not_replaced() -> None:
    # Regression: `smi collect -o /dev/null` once renamed a regular file over /dev/null.
    devnull = Path(os.devnull)
    before = devnull.stat()
    with atomic_writer(devnull) as stream:
        stream.write("discarded\n")
    after = devnull.stat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_mode == before.st_mode


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    with atomic_writer(fifo) as stream:
        stream.write("through the pipe\n")
    reader.join(timeout=10)
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_keeps_pointing_at_the_replaced_file(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)
    with atomic_writer(link) as stream:
        stream.write("new\n")
    assert link.is_symlink() and link.read_text() == "new\n" and real.read_text() == "new\n"
