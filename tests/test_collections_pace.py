"""collect.collections_pace: a run collects young objects less often, and only during the run."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect import command
from sagemaker_inventory.collect.collections_pace import YOUNG_THRESHOLD, fewer_collections

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from fake_endpoint import FakeConfig, start_fake


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_for_the_block_only(thresholds: None) -> None:
    gc.set_threshold(700, 11, 12)
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 1, 12)
    assert gc.get_threshold() == (700, 11, 12)


def test_a_collector_turned_off_stays_off_and_a_higher_threshold_stays(thresholds: None) -> None:
    for young in (0, 10 * YOUNG_THRESHOLD):
        gc.set_threshold(young, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (young, 10, 10)


def test_a_collect_run_runs_with_the_raised_threshold(
    thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []
    collect_scopes = command._collect_scopes

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return collect_scopes(*args, **kwargs)

    monkeypatch.setattr(command, "_collect_scopes", watched)
    server, _ = start_fake(FakeConfig(jobs=2))
    try:
        result = CliRunner().invoke(
            cli, ["collect", "-r", "us-east-1", "--endpoint-url", server.url]
        )
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert seen == [(YOUNG_THRESHOLD, 1, 10)]
    assert gc.get_threshold() == (700, 10, 10)
