"""Prices for the demo's inventory, so that `smi report --cost` works on it offline.

The demo's records are synthetic: asking the Price List API about them needs AWS credentials the
demo is meant to do without. smi ships a price table for the demo's (region, instance type) pairs
as package data (approximate on-demand list prices in USD per instance-hour; not for real
inventories), named by `--prices demo`, and used by `--cost` without --prices when every record
of the inventory carries the demo's mark.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import TypeVar

from sagemaker_inventory.demo.jobs import DEMO_MARK
from sagemaker_inventory.records.record import Record
from sagemaker_inventory.report.prices import PriceTable, parse_price_table

DEMO_PRICES = "demo"  # the --prices value naming the shipped table
_RESOURCE = "demo_prices.json"
R = TypeVar("R", bound=Record)


def demo_price_table() -> PriceTable:
    """The shipped demo price table."""
    text = (resources.files("sagemaker_inventory") / "data" / _RESOURCE).read_text("utf-8")
    return parse_price_table(json.loads(text), f"smi's {_RESOURCE}")


@dataclass
class DemoWatch:
    """Notes, while records stream by, whether every one of them is demo data."""

    records: int = 0
    demo: int = 0

    def watch(self, records: Iterable[R]) -> Iterator[R]:
        """The records, unchanged, counted on their way."""
        for record in records:
            self.records += 1
            tags = record.get("tags")
            if isinstance(tags, list) and DEMO_MARK in tags:
                self.demo += 1
            yield record

    @property
    def all_demo(self) -> bool:
        """At least one record, and every one demo data."""
        return self.records > 0 and self.demo == self.records
