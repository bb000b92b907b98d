"""AWS Price List calls for `smi report --cost`: the on-demand training price of one instance type
in one region (service AmazonSageMaker, GetProducts).

The Price List API answers from us-east-1 (also eu-central-1 and ap-south-1), whatever region is
priced. Each product comes back as a JSON *string* inside `PriceList`. SageMaker's instance
products have productFamily "ML Instance" and attributes instanceName (`ml.p4d.24xlarge`),
regionCode, component ("Training", "Hosting", "Processing", ...) and usagetype (`USE1-Train:...`);
the request filters on all of them (TERM_MATCH), so only the training product is fetched. Its
OnDemand term's price dimension in unit "Hrs" is the list price per instance-hour.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory

SERVICE_CODE = "AmazonSageMaker"
PRODUCT_FAMILY = "ML Instance"
TRAINING_COMPONENT = "Training"
PRICING_REGION = "us-east-1"
# A Price List failure ends the report: a few quick attempts, not a long retry storm.
MAX_ATTEMPTS = 4  # every attempt, the first included (three retries)


class PriceListError(RuntimeError):
    """A Price List call failed (credentials, permissions, network): the message says which."""


def training_filters(region: str, instance_type: str) -> list[dict[str, str]]:
    """GetProducts filters for the training product of one instance type in one region."""
    return [
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": PRODUCT_FAMILY},
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type},
        {"Type": "TERM_MATCH", "Field": "component", "Value": TRAINING_COMPONENT},
    ]


def on_demand_hourly_usd(product: Mapping[str, Any]) -> float | None:
    """The USD price per hour of a product's OnDemand term; None when it has none."""
    terms = product.get("terms", {}).get("OnDemand", {})
    for term in terms.values() if isinstance(terms, Mapping) else ():
        dimensions = term.get("priceDimensions", {}) if isinstance(term, Mapping) else {}
        for dimension in dimensions.values():
            if not isinstance(dimension, Mapping) or dimension.get("unit") != "Hrs":
                continue
            usd = dimension.get("pricePerUnit", {}).get("USD")
            try:
                return float(usd)
            except (TypeError, ValueError):
                continue
    return None


def _is_training_product(product: Mapping[str, Any], instance_type: str) -> bool:
    attributes = product.get("product", {}).get("attributes", {})
    if not isinstance(attributes, Mapping):
        return False
    component = str(attributes.get("component", "")).lower()
    usage = str(attributes.get("usagetype", ""))
    # One-off fees (e.g. "TrainingPlanUpfrontFee") carry no component and no hourly unit.
    return attributes.get("instanceName") == instance_type and (
        component == "training" or usage.endswith(f"-Train:{instance_type}")
    )


def pick_training_price(price_list: Iterable[str], instance_type: str) -> float | None:
    """The training list price among GetProducts' PriceList entries (JSON strings). When several
    products qualify, the one whose usagetype is exactly `...-Train:TYPE` wins, else the highest."""
    preferred: list[float] = []
    others: list[float] = []
    for text in price_list:
        product = json.loads(text)
        if not isinstance(product, Mapping) or not _is_training_product(product, instance_type):
            continue
        price = on_demand_hourly_usd(product)
        if price is None:
            continue
        usage = str(product["product"]["attributes"].get("usagetype", ""))
        (preferred if usage.endswith(f"-Train:{instance_type}") else others).append(price)
    if preferred:
        return preferred[0]
    return max(others) if others else None


def fetch_training_price(client: Any, region: str, instance_type: str) -> float | None:
    """Ask the Price List API (a `pricing` client) for one pair; None when no product matches.
    Raises PriceListError with AWS's code and message when the call fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    entries: list[str] = []
    try:
        pages = client.get_paginator("get_products").paginate(
            ServiceCode=SERVICE_CODE,
            Filters=training_filters(region, instance_type),
            FormatVersion="aws_v1",
        )
        for page in pages:
            entries.extend(page.get("PriceList", ()))
    except ClientError as error:
        info = error.response.get("Error", {})
        raise PriceListError(
            f"Price List GetProducts failed: {info.get('Code', 'Error')}: {info.get('Message', '')}"
        ) from None
    except BotoCoreError as error:
        raise PriceListError(f"Price List GetProducts failed: {error}") from None
    try:
        return pick_training_price(entries, instance_type)
    except ValueError as error:
        raise PriceListError(f"Price List answer is not JSON: {error}") from None


def price_fetcher(
    endpoint_url: str | None = None, profile: str | None = None
) -> Callable[[str, str], float | None]:
    """A fetch function for prices.resolve_prices; its `pricing` client (us-east-1, or
    `endpoint_url`) is built on the first call, so a run served from the cache needs no
    credentials."""
    clients: list[Any] = []

    def fetch(region: str, instance_type: str) -> float | None:
        if not clients:
            from botocore.exceptions import BotoCoreError

            from sagemaker_inventory.aws.retry_settings import RetrySettingError

            factory = SessionFactory(
                ClientOptions(endpoint_url=endpoint_url, max_attempts=MAX_ATTEMPTS)
            )
            try:
                session = factory.session(profile)
                clients.append(factory.client(session, "pricing", PRICING_REGION))
            except (BotoCoreError, RetrySettingError) as error:
                raise PriceListError(f"cannot reach the Price List API: {error}") from None
        return fetch_training_price(clients[0], region, instance_type)

    return fetch
