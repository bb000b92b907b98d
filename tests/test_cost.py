"""`smi report --cost`: dollars on tests/data/cost.jsonl at tests/data/prices.json, by hand.

Prices: us-east-1 ml.m5.xlarge $0.24/h, ml.p4d.24xlarge $37.688/h; nothing else.

  job              region      type(s) x n                 train  bill  spot  USD
  on-demand        us-east-1   m5 x2                       3600   3600  no    2 h x 0.24 = 0.48
  spot             us-east-1   m5 x1                       7200   1800  yes   0.5 h x 0.24 = 0.12
                                                                              saved 1.5 h x 0.24
                                                                              = 0.36
  groups           us-east-1   groups p4d x2 + m5 x1       600    600   no    p4d 1200 s = 12.562667
                                                                              + m5 600 s = 0.04
  unpriced-type    us-east-1   trn2.48xlarge x1            3600   3600  no    unpriced
  unpriced-region  eu-south-2  m5 x1                       3600   3600  no    unpriced
  running          us-east-1   m5 x4 (InProgress)          -      -     -     0 (priced)
  no-instances     us-east-1   (no resource_config)        60     60    no    unpriced

Totals: 0.48 + 0.12 + 12.602667 = 13.202667 -> 13.2; spot saved 0.36; unpriced jobs 3.
Tags: team a = on-demand, spot, running (0.60); team b = groups, unpriced-type, unpriced-region
(12.60, 2 unpriced); no tag = no-instances (1 unpriced).
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result
from price_list_fake import FakePriceList, answer_for, product, serve_price_list
from rich.console import Console

from sagemaker_inventory.aws.pricing import (
    PriceListError,
    fetch_training_price,
    pick_training_price,
    training_filters,
)
from sagemaker_inventory.cli import cli
from sagemaker_inventory.report.aggregate import summarise
from sagemaker_inventory.report.cost import CostTally, instance_parts
from sagemaker_inventory.report.inputs import read_records
from sagemaker_inventory.report.prices import PriceFileError, load_price_file, resolve_prices
from sagemaker_inventory.report.view import render_summary

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "cost.jsonl"
PRICES = DATA / "prices.json"
PRICE_TABLE = {"us-east-1": {"ml.m5.xlarge": 0.24, "ml.p4d.24xlarge": 37.688}}


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def records() -> list[dict[str, Any]]:
    with FIXTURE.open("rb") as stream:
        return list(read_records(stream, str(FIXTURE)))


def smi(*args: str, columns: int = 120) -> Result:
    return CliRunner().invoke(cli, ["report", str(FIXTURE), *args], env={"COLUMNS": str(columns)})


def cost_fields(document: dict[str, Any]) -> dict[str, Any]:
    return {k: document[k] for k in ("cost_usd", "spot_saved_usd", "unpriced_jobs")}


def test_totals_by_hand() -> None:
    summary = summarise(records(), ["tag:team"], cost=True)
    summary.price(PRICE_TABLE)
    document = summary.as_dict()
    assert cost_fields(document["totals"]) == {
        "cost_usd": 13.2,
        "spot_saved_usd": 0.36,
        "unpriced_jobs": 3,
    }
    groups = {g["key"]["tag:team"]: cost_fields(g) for g in document["groups"]}
    assert groups == {
        "a": {"cost_usd": 0.6, "spot_saved_usd": 0.36, "unpriced_jobs": 0},
        "b": {"cost_usd": 12.6, "spot_saved_usd": 0.0, "unpriced_jobs": 2},
        None: {"cost_usd": None, "spot_saved_usd": None, "unpriced_jobs": 1},  # nothing priced
    }
    # Unpriced jobs still count in jobs and hours.
    assert document["totals"]["jobs"] == 7
    assert document["unpriced"] == [
        {"region": "eu-south-2", "instance_type": "ml.m5.xlarge"},
        {"region": "us-east-1", "instance_type": "ml.trn2.48xlarge"},
    ]


def test_instance_groups_are_priced_group_by_group() -> None:
    (groups_job,) = [r for r in records() if r["training_job_name"] == "groups"]
    assert instance_parts(groups_job) == [("ml.p4d.24xlarge", 2), ("ml.m5.xlarge", 1)]
    tally = CostTally()
    tally.add(groups_job)
    priced = tally.priced(PRICE_TABLE)
    assert priced.cost_usd == pytest.approx(1200 / 3600 * 37.688 + 600 / 3600 * 0.24)
    # Without the p4d price the whole job is unpriced: no partial dollars.
    assert tally.priced({"us-east-1": {"ml.m5.xlarge": 0.24}}).unpriced_jobs == 1


def test_share_of_a_job_prices_only_its_instances() -> None:
    # What --by instance_type gives each type of a heterogeneous job: its own instances.
    (groups_job,) = [r for r in records() if r["training_job_name"] == "groups"]
    tally = CostTally()
    tally.add(groups_job, [("ml.m5.xlarge", 1)])
    assert tally.priced(PRICE_TABLE).cost_usd == pytest.approx(0.04)
    assert tally.pairs() == {("us-east-1", "ml.m5.xlarge")}


def test_without_cost_the_document_is_unchanged() -> None:
    document = summarise(records(), ["region"]).as_dict()
    assert "cost_usd" not in document["totals"]
    assert "unpriced" not in document


def test_cli_prices_file_json() -> None:
    result = smi("--by", "tag:team", "--cost", "--prices", str(PRICES), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert cost_fields(document["totals"]) == {
        "cost_usd": 13.2,
        "spot_saved_usd": 0.36,
        "unpriced_jobs": 3,
    }


def test_sort_cost_orders_groups_and_bars_by_dollars() -> None:
    # By billable hours team a (2.5 h) ties team b (2.5 h); by cost b ($12.60) comes first.
    base = ["--by", "tag:team", "--cost", "--prices", str(PRICES)]
    by_cost = json.loads(smi(*base, "--sort", "cost", "--format", "json").stdout)
    assert [g["key"]["tag:team"] for g in by_cost["groups"]] == ["b", "a", None]
    table = smi(*base, "--sort", "cost", "--format", "table", columns=140).stdout
    assert table.index("│ b ") < table.index("│ a ")
    assert "$12.60" in table
    assert "$13.20" in table


def test_table_shows_dollars_spot_savings_and_unpriced_pairs() -> None:
    summary = summarise(records(), ["region"], cost=True)
    summary.price(PRICE_TABLE)
    stream = io.StringIO()
    render_summary(summary, Console(file=stream, width=120))
    text = stream.getvalue()
    assert "USD" in text
    assert "$13.20" in text
    assert "spot saved $0.36" in text
    assert "3 unpriced jobs" in text
    assert "eu-south-2 ml.m5.xlarge" in " ".join(text.split())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('["us-east-1"]', "expected {"),
        ('{"us-east-1": 3}', "'us-east-1' is not an object"),
        ('{"us-east-1": {"ml.m5.xlarge": "cheap"}}', 'us-east-1.ml.m5.xlarge is "cheap"'),
        ('{"us-east-1": {"ml.m5.xlarge": -1}}', "a number >= 0"),
        ('{"us-east-1": {"ml.m5.xlarge": true}}', "is true"),
    ],
)
def test_malformed_price_file_is_exit_2_naming_it(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad-prices.json"
    bad.write_text(content)
    with pytest.raises(PriceFileError, match=r"bad-prices\.json"):
        load_price_file(bad)
    result = smi("--cost", "--prices", str(bad))
    assert result.exit_code == 2
    assert "bad-prices.json" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_price_file_is_exit_2(tmp_path: Path) -> None:
    result = smi("--cost", "--prices", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prices", "x.json"], "--prices needs --cost"),
        (["--refresh-prices"], "--refresh-prices needs --cost"),
        (["--sort", "cost"], "--sort cost needs --cost"),
        (["--cost", "--failures"], "--cost goes with --by"),
        (["--cost", "--checks"], "--cost goes with --by"),
        (["--cost", "--prices", "x.json", "--refresh-prices"], "drop it with --prices"),
    ],
)
def test_cost_usage_errors(args: list[str], message: str) -> None:
    result = smi(*args)
    assert result.exit_code == 2
    assert message in result.stderr


# --- the Price List API -------------------------------------------------------------------


def test_pick_training_price_ignores_hosting_and_one_off_fees() -> None:
    entries = answer_for(PRICE_TABLE, "us-east-1", "ml.m5.xlarge")
    assert pick_training_price(entries, "ml.m5.xlarge") == 0.24
    assert pick_training_price(entries[:2], "ml.m5.xlarge") is None
    assert pick_training_price([], "ml.m5.xlarge") is None


def pricing_client() -> Any:
    import boto3

    return boto3.session.Session().client("pricing", region_name="us-east-1")


def test_get_products_call_filters_on_region_type_and_training_component() -> None:
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [product("eu-west-1", "ml.g5.xlarge", 1.58)]},
            {
                "ServiceCode": "AmazonSageMaker",
                "Filters": [
                    {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "ML Instance"},
                    {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
                    {"Type": "TERM_MATCH", "Field": "instanceName", "Value": "ml.g5.xlarge"},
                    {"Type": "TERM_MATCH", "Field": "component", "Value": "Training"},
                ],
                "FormatVersion": "aws_v1",
            },
        )
        assert fetch_training_price(client, "eu-west-1", "ml.g5.xlarge") == 1.58
        stub.assert_no_pending_responses()
    assert training_filters("eu-west-1", "ml.g5.xlarge")[1]["Value"] == "eu-west-1"


def test_get_products_pages_are_all_read() -> None:
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_response("get_products", {"PriceList": [], "NextToken": "t1"})
        stub.add_response(
            "get_products", {"PriceList": [product("us-east-1", "ml.m5.xlarge", 0.24)]}
        )
        assert fetch_training_price(client, "us-east-1", "ml.m5.xlarge") == 0.24


def test_get_products_error_is_a_price_list_error() -> None:
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_products", "AccessDeniedException", "not authorized to perform pricing:GetProducts"
        )
        with pytest.raises(PriceListError, match="AccessDeniedException: not authorized"):
            fetch_training_price(client, "us-east-1", "ml.m5.xlarge")


def test_cache_answers_for_a_day_remembers_missing_prices_and_refreshes(tmp_path: Path) -> None:
    asked: list[tuple[str, str]] = []

    def fetch(region: str, kind: str) -> float | None:
        asked.append((region, kind))
        return PRICE_TABLE.get(region, {}).get(kind)

    path = tmp_path / "prices.json"
    now = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
    pairs = {("us-east-1", "ml.m5.xlarge"), ("us-east-1", "ml.trn2.48xlarge")}
    table = resolve_prices(pairs, fetch, path=path, now=now)
    assert table == {"us-east-1": {"ml.m5.xlarge": 0.24}}
    assert len(asked) == 2
    assert resolve_prices(pairs, fetch, path=path, now=now + timedelta(hours=23)) == table
    assert len(asked) == 2  # both answers cached, the missing price too
    resolve_prices(pairs, fetch, path=path, now=now + timedelta(hours=23), refresh=True)
    assert len(asked) == 4
    resolve_prices(pairs, fetch, path=path, now=now + timedelta(days=2))
    assert len(asked) == 6
    # Another endpoint's cache is not this one's.
    resolve_prices(pairs, fetch, path=path, now=now + timedelta(days=2), endpoint_url="http://x")
    assert len(asked) == 8


def test_cli_through_a_fake_price_list_endpoint_then_the_cache(cache_home: Path) -> None:
    with serve_price_list(FakePriceList(PRICE_TABLE)) as fake:
        args = ["--by", "region", "--cost", "--endpoint-url", fake.url, "--format", "json"]
        first = smi(*args)
        assert first.exit_code == 0, first.stderr
        totals = json.loads(first.stdout)["totals"]
        assert cost_fields(totals) == {"cost_usd": 13.2, "spot_saved_usd": 0.36, "unpriced_jobs": 3}
        # Only the pairs the inventory holds, each once, filtered down to the training product.
        asked = sorted(
            tuple(f["Value"] for f in r["Filters"] if f["Field"] in ("regionCode", "instanceName"))
            for r in fake.requests
        )
        assert asked == [
            ("eu-south-2", "ml.m5.xlarge"),
            ("us-east-1", "ml.m5.xlarge"),
            ("us-east-1", "ml.p4d.24xlarge"),
            ("us-east-1", "ml.trn2.48xlarge"),
        ]
        assert {r["target"] for r in fake.requests} == {"AWSPriceListService.GetProducts"}
        assert (cache_home / "smi" / "prices.json").exists()
        second = smi(*args)
        assert second.exit_code == 0
        assert json.loads(second.stdout)["totals"] == totals
        assert len(fake.requests) == 4  # served from the cache
        smi(*args, "--refresh-prices")
        assert len(fake.requests) == 8


def test_cli_price_list_failure_is_exit_1_suggesting_prices() -> None:
    fake = FakePriceList(PRICE_TABLE, error=(400, "AccessDeniedException", "no pricing for you"))
    with serve_price_list(fake):
        result = smi("--cost", "--endpoint-url", fake.url, "--format", "json")
    assert result.exit_code == 1
    assert "AccessDeniedException: no pricing for you" in result.stderr
    assert "--prices FILE" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
