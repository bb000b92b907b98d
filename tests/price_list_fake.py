"""A loopback fake of the AWS Price List API (GetProducts, JSON 1.1) and real-shaped products.

Products follow what GetProducts returns for SageMaker (each one a JSON *string* in PriceList):
productFamily "ML Instance"; attributes instanceName, regionCode, component ("Training",
"Hosting", ...), usagetype ("USE1-Train:ml.m5.xlarge"); the price in terms.OnDemand[...]
.priceDimensions[...].pricePerUnit.USD, unit "Hrs". The fake ignores the component filter and
also answers a hosting product and a one-off fee, so the client must pick the training price.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from threaded_server import running

USAGE_PREFIX = {"us-east-1": "USE1", "eu-west-1": "EU", "eu-south-2": "EUS2"}


def product(
    region: str,
    instance_type: str,
    usd: float,
    *,
    component: str | None = "Training",
    usage: str = "Train",
    unit: str = "Hrs",
) -> str:
    """One GetProducts PriceList entry, as the JSON string the API returns."""
    sku = f"SKU{abs(hash((region, instance_type, component, usage))) % 10**8:08d}"
    attributes = {
        "servicecode": "AmazonSageMaker",
        "servicename": "Amazon SageMaker",
        "instanceName": instance_type,
        "instanceType": f"{instance_type}-{(component or 'fee').lower()}",
        "regionCode": region,
        "locationType": "AWS Region",
        "operation": "RunInstance",
        "usagetype": f"{USAGE_PREFIX.get(region, 'XX')}-{usage}:{instance_type}",
    }
    if component is not None:
        attributes["component"] = component
    term = f"{sku}.JRTCKXETXF"
    document = {
        "product": {"productFamily": "ML Instance", "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonSageMaker",
        "terms": {
            "OnDemand": {
                term: {
                    "priceDimensions": {
                        f"{term}.6YS6EN2CT7": {
                            "unit": unit,
                            "endRange": "Inf",
                            "description": f"${usd} per {unit} for {usage} on {instance_type}",
                            "appliesTo": [],
                            "rateCode": f"{term}.6YS6EN2CT7",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": f"{usd:.10f}"},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            }
        },
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    }
    return json.dumps(document)


def answer_for(prices: Mapping[str, Mapping[str, float]], region: str, kind: str) -> list[str]:
    """What the fake returns for one (region, instance type): nothing if unpriced, else the
    training product among a hosting product and a one-off fee."""
    usd = prices.get(region, {}).get(kind)
    if usd is None:
        return []
    return [
        product(region, kind, usd * 1.3, component="Hosting", usage="Host"),
        product(region, kind, usd / 2, component=None, usage="TrainingPlanUpfrontFee", unit="Qty"),
        product(region, kind, usd),
    ]


@dataclass
class FakePriceList:
    """The fake's state: prices served, requests seen, and an error to answer instead."""

    prices: Mapping[str, Mapping[str, float]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    error: tuple[int, str, str] | None = None  # (HTTP status, __type, message)
    url: str = ""


@contextmanager
def serve_price_list(fake: FakePriceList) -> Iterator[FakePriceList]:
    """Run the fake on 127.0.0.1 for the duration of the block; fake.url is its endpoint."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            fake.requests.append({"target": target, **body})
            if fake.error is not None:
                status, kind, message = fake.error
                self._send(status, {"__type": kind, "message": message})
                return
            filters = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
            entries = answer_for(
                fake.prices, filters.get("regionCode", ""), filters.get("instanceName", "")
            )
            self._send(200, {"FormatVersion": "aws_v1", "PriceList": entries})

        def _send(self, status: int, document: dict[str, Any]) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    with running(server):
        yield fake
