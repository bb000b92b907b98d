"""`smi report --cost`: where prices come from (a --prices file, or the Price List API through the
cache) and turning a failure to get them into one clear message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from sagemaker_inventory.cli.bundles import option_bundle
from sagemaker_inventory.report.aggregate import GroupedTallies
from sagemaker_inventory.report.demo_prices import DEMO_PRICES, demo_price_table
from sagemaker_inventory.report.prices import PriceFileError, PriceTable, load_price_file


class PriceListFailure(click.ClickException):
    """The Price List API could not be asked: exit 1 with AWS's reason and the offline way out."""

    exit_code = 1


@dataclass(frozen=True)
class PricingPlan:
    """How --cost prices the inventory."""

    table: PriceTable | None  # from --prices FILE; None: the Price List API
    refresh: bool = False
    endpoint_url: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class PriceSource:
    """--prices, --refresh-prices, --endpoint-url and --profile: where --cost's prices come from
    (--endpoint-url and --profile also say how s3:// inputs are read)."""

    prices_file: str | None
    refresh: bool
    endpoint_url: str | None
    profile: str | None


price_source_options = option_bundle(
    (
        click.option(
            "--prices",
            "prices_file",
            metavar="FILE",
            help='With --cost: prices from FILE, {"REGION": {"INSTANCE_TYPE": USD_PER_HOUR}}, '
            "instead of the Price List API; 'demo' names the demo's shipped prices (used by"
            " themselves for an inventory of demo records only).",
        ),
        click.option(
            "--refresh-prices",
            is_flag=True,
            help="With --cost: ask the Price List API, not the cache.",
        ),
        click.option(
            "--endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            metavar="URL",
            help="Send S3 calls (s3:// inputs) and --cost's Price List calls to URL "
            "(an S3-compatible store, tests, proxies).",
        ),
        click.option(
            "--profile",
            metavar="NAME",
            help="AWS profile for s3:// inputs and --cost's Price List API (default: the default "
            "credential chain).",
        ),
    ),
    ("prices_file", "refresh_prices", "endpoint_url", "profile"),
    "prices",
    PriceSource,
)


def plan_pricing(
    prices_file: str | None, refresh: bool, endpoint_url: str | None, profile: str | None
) -> PricingPlan:
    """Read and check --prices FILE up front, so that a bad file stops the run before any work."""
    if prices_file is None:
        return PricingPlan(None, refresh, endpoint_url, profile)
    if refresh:
        raise click.UsageError("--refresh-prices asks the Price List API; drop it with --prices")
    if prices_file == DEMO_PRICES:
        return PricingPlan(demo_price_table())
    try:
        return PricingPlan(load_price_file(Path(prices_file)))
    except PriceFileError as error:
        raise click.BadParameter(str(error), param_hint="'--prices'") from None


def demo_pricing(plan: PricingPlan, prices: PriceSource) -> PricingPlan:
    """The demo's shipped prices in place of the Price List API, for an inventory of demo records
    only, unless an option asked for the API (--refresh-prices, --endpoint-url, --profile)."""
    if plan.table is not None or prices.refresh or prices.endpoint_url or prices.profile:
        return plan
    return PricingPlan(demo_price_table())


def price_summary(summary: GroupedTallies, plan: PricingPlan) -> None:
    """Price every group of `summary`, asking the Price List API only for pairs not cached."""
    if plan.table is not None:
        summary.price(plan.table)
        return
    from sagemaker_inventory.aws.pricing import PriceListError, price_fetcher
    from sagemaker_inventory.report.prices import resolve_prices

    try:
        table = resolve_prices(
            summary.price_pairs(),
            price_fetcher(plan.endpoint_url, plan.profile),
            endpoint_url=plan.endpoint_url,
            refresh=plan.refresh,
        )
    except PriceListError as error:
        raise PriceListFailure(
            f"{error} (smi report --cost needs AWS credentials allowed pricing:GetProducts; "
            "or give --prices FILE to price offline)"
        ) from None
    summary.price(table)
