"""On-demand prices of training instances for `smi report --cost`: a price file, or the Price List
API through a day-long cache on disk.

A price table maps region -> instance type -> USD per instance-hour. `--prices FILE` supplies one
(negotiated rates, offline use); otherwise `resolve_prices` asks a fetch function (the AWS layer's,
`pricing.fetch_training_price`) only for the (region, instance type) pairs the inventory holds and
not in the cache. The cache (XDG_CACHE_HOME/smi/prices.json, else ~/.cache/smi/prices.json) also
remembers pairs that have no price, so that an unpriced type is not asked for again every run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sagemaker_inventory.output.files import atomic_writer
from sagemaker_inventory.records.timestamps import format_utc_seconds, parse_timestamp_or_none

PriceTable = dict[str, dict[str, float]]
Pair = tuple[str, str]  # (region, instance type)
Fetch = Callable[[str, str], "float | None"]

CACHE_MAX_AGE = timedelta(days=1)
CACHE_VERSION = 1


class PriceFileError(ValueError):
    """A --prices file that cannot be read or is not {"REGION": {"INSTANCE_TYPE": USD_PER_HOUR}}."""


def load_price_file(path: str | os.PathLike[str]) -> PriceTable:
    """Read and check a --prices file; PriceFileError names the file and the first problem."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PriceFileError(f"{path}: {error.strerror or error}") from None
    except ValueError as error:
        raise PriceFileError(f"{path}: not valid JSON ({error})") from None
    return parse_price_table(document, str(path))


def parse_price_table(document: object, source: str) -> PriceTable:
    """Check {"REGION": {"INSTANCE_TYPE": USD_PER_HOUR >= 0}}; PriceFileError names the entry."""
    shape = 'expected {"REGION": {"INSTANCE_TYPE": USD_PER_HOUR}}'
    if not isinstance(document, dict):
        raise PriceFileError(f"{source}: {shape}")
    table: PriceTable = {}
    for region, types in document.items():
        if not isinstance(types, dict):
            raise PriceFileError(f"{source}: {region!r} is not an object; {shape}")
        table[region] = {}
        for instance_type, price in types.items():
            if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
                raise PriceFileError(
                    f"{source}: {region}.{instance_type} is {json.dumps(price)}, "
                    "not a price in USD per hour (a number >= 0)"
                )
            table[region][instance_type] = float(price)
    return table


def cache_path() -> Path:
    """XDG_CACHE_HOME/smi/prices.json, else ~/.cache/smi/prices.json."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smi" / "prices.json"


def _read_cache(path: Path, endpoint_url: str | None) -> dict[str, dict[str, Any]]:
    """The cache's entries, {} when absent, unreadable, of another version or another endpoint."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(document, dict)
        or document.get("version") != CACHE_VERSION
        or document.get("endpoint_url") != endpoint_url
        or not isinstance(document.get("prices"), dict)
    ):
        return {}
    prices: dict[str, dict[str, Any]] = document["prices"]
    return prices


def _fresh(entry: object, now: datetime, max_age: timedelta) -> bool:
    if not isinstance(entry, dict):
        return False
    fetched = parse_timestamp_or_none(entry.get("fetched_at"))
    if fetched is None:
        return False
    price = entry.get("usd_per_hour")
    valid = price is None or (isinstance(price, (int, float)) and not isinstance(price, bool))
    return valid and timedelta(0) <= now - fetched <= max_age


def resolve_prices(
    pairs: Iterable[Pair],
    fetch: Fetch,
    *,
    path: Path | None = None,
    endpoint_url: str | None = None,
    refresh: bool = False,
    now: datetime | None = None,
    max_age: timedelta = CACHE_MAX_AGE,
) -> PriceTable:
    """Prices of `pairs`, from the cache when fresh, else from `fetch` (which returns None for a
    pair without a price, and raises on failure); fetched answers are written back to the cache.
    Pairs without a price are left out of the table."""
    path = cache_path() if path is None else path
    now = now or datetime.now(timezone.utc)
    stored = _read_cache(path, endpoint_url)
    cached: dict[str, dict[str, Any]] = {} if refresh else stored
    table: PriceTable = {}
    fetched_any = False
    for region, instance_type in sorted(set(pairs)):
        entry = cached.get(region, {}).get(instance_type)
        if not _fresh(entry, now, max_age):
            entry = {
                "usd_per_hour": fetch(region, instance_type),
                "fetched_at": format_utc_seconds(now),
            }
            stored.setdefault(region, {})[instance_type] = entry
            fetched_any = True
        assert isinstance(entry, dict)
        if entry["usd_per_hour"] is not None:
            table.setdefault(region, {})[instance_type] = float(entry["usd_per_hour"])
    if fetched_any:
        _write_cache(path, endpoint_url, stored)
    return table


def _write_cache(path: Path, endpoint_url: str | None, prices: dict[str, Any]) -> None:
    # A cache that cannot be written costs the next run a few requests, never this run's answer.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"version": CACHE_VERSION, "endpoint_url": endpoint_url, "prices": prices}
        with atomic_writer(path, mode=0o600) as stream:
            json.dump(document, stream, indent=1, sort_keys=True)
