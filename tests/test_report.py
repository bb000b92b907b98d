"""The pure report code: hand-computed totals over tests/data/report_small.jsonl, and its tables.

The fixture is worked out by hand in tests/report_small.py. Folded failures and running jobs over
the same fixture: tests/test_report_jobs.py.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from report_small import NOW, A, B, records
from rich.console import Console

from sagemaker_inventory.report.aggregate import Tally, group_value, parse_dimension, summarise
from sagemaker_inventory.report.inputs import InventoryError, read_records
from sagemaker_inventory.report.jobs import collect_failures, collect_running
from sagemaker_inventory.report.view import bar, render_failures, render_running, render_summary


def group(key: dict[str, Any], *figures: Any) -> dict[str, Any]:
    jobs, instance_hours, billable, savings, failed = figures
    return {
        "key": key,
        "jobs": jobs,
        "instance_hours": instance_hours,
        "billable_instance_hours": billable,
        "spot_savings_percent": savings,
        "failed": failed,
    }


TOTALS = {
    "jobs": 8,
    "instance_hours": 6.25,
    "billable_instance_hours": 4.1944,
    "spot_savings_percent": 71.26,
    "failed": 3,
}

# Each expected group is derived from the table in the module docstring; order: billable desc.
EXPECTED_GROUPS: dict[str, list[dict[str, Any]]] = {
    # Completed a+b: inst 14400 (4 h), bill 9000 (2.5 h), spot b 1-1800/7200 = 75 %.
    # Failed c+d+h: inst 7500 (2.0833), bill 5500 (1.5278), spot d+h 1-700/1500 = 53.33 %.
    # Stopped e: 600 s (0.1667 h) both. InProgress f+g: nothing measured, f has no times.
    "status": [
        group({"status": "Completed"}, 2, 4.0, 2.5, 75.0, 0),
        group({"status": "Failed"}, 3, 2.0833, 1.5278, 53.33, 3),
        group({"status": "Stopped"}, 1, 0.1667, 0.1667, None, 0),
        group({"status": "InProgress"}, 2, 0.0, 0.0, None, 0),
    ],
    # d ran 2 p4d and 1 g5 (instance groups): it counts in both, with those instances' hours.
    # p4d a+e+g: inst 7800, bill 7800; + d's 2 x 1200 / 2 x 600: 10200 (2.8333) / 9000 (2.5),
    # spot d 50 %. g5 b+c+f+h: inst 11100, bill 5500; + d's 1 x 1200 / 600: 12300 (3.4167) /
    # 6100 (1.6944), spot b+h+d 1-2500/8700 = 71.26 %. Regression: d was in a null group.
    "instance_type": [
        group({"instance_type": "ml.p4d.24xlarge"}, 4, 2.8333, 2.5, 50.0, 1),
        group({"instance_type": "ml.g5.xlarge"}, 5, 3.4167, 1.6944, 71.26, 3),
    ],
    # 111 a+b+e+f: inst 15000 (4.1667), bill 9600 (2.6667), spot b 75 %.
    # 222 c+d+g+h: inst 7500, bill 5500, spot d+h 53.33 %.
    "account_id": [
        group({"account_id": A}, 4, 4.1667, 2.6667, 75.0, 0),
        group({"account_id": B}, 4, 2.0833, 1.5278, 53.33, 3),
    ],
    # us-east-1 a+b+d+f: inst 18000 (5), bill 10800 (3), spot b+d 1-2400/8400 = 71.43 %.
    # eu-west-1 c+e+g+h: inst 4500 (1.25), bill 4300 (1.1944), spot h 1-100/300 = 66.67 %.
    "region": [
        group({"region": "us-east-1"}, 4, 5.0, 3.0, 71.43, 1),
        group({"region": "eu-west-1"}, 4, 1.25, 1.1944, 66.67, 2),
    ],
    # stack-1 a+d: inst 10800 (3), bill 9000 (2.5), spot d 50 %; the other six: inst 11700
    # (3.25), bill 6100 (1.6944), spot b+h 74.67 %.
    "tag:aws:cloudformation:stack-name": [
        group({"tag:aws:cloudformation:stack-name": "stack-1"}, 2, 3.0, 2.5, 50.0, 1),
        group({"tag:aws:cloudformation:stack-name": None}, 6, 3.25, 1.6944, 74.67, 2),
    ],
    # vision a+b+f: 14400 / 9000, 75 %. nlp c+h: 3900 (1.0833) / 3700 (1.0278), 66.67 %.
    # untagged d+e+g: 4200 (1.1667) / 2400 (0.6667), spot d 50 %.
    "tag:team": [
        group({"tag:team": "vision"}, 3, 4.0, 2.5, 75.0, 0),
        group({"tag:team": "nlp"}, 2, 1.0833, 1.0278, 66.67, 2),
        group({"tag:team": None}, 3, 1.1667, 0.6667, 50.0, 1),
    ],
    # Chronological. 01 a+b: 14400 / 9000, 75 %. 02 c+d+e (e is 23:59:59 on Feb 28): 7800
    # (2.1667) / 6000 (1.6667), 50 %. 03 f+g+h: 300 (0.0833) / 100 (0.0278), 66.67 %.
    "month": [
        group({"month": "2026-01"}, 2, 4.0, 2.5, 75.0, 0),
        group({"month": "2026-02"}, 3, 2.1667, 1.6667, 50.0, 2),
        group({"month": "2026-03"}, 3, 0.0833, 0.0278, 66.67, 1),
    ],
}


@pytest.mark.parametrize("dimension", sorted(EXPECTED_GROUPS))
def test_summary_by_one_dimension_matches_hand_computed_figures(dimension: str) -> None:
    summary = summarise(records(), [dimension])

    assert summary.as_dict() == {
        "by": [dimension],
        "groups": EXPECTED_GROUPS[dimension],
        "totals": TOTALS,
    }


def test_two_level_grouping_orders_by_billable_then_key() -> None:
    # (111, Completed) a+b bill 9000; (222, Failed) c+d+h bill 5500; (111, Stopped) e 600;
    # (111, InProgress) f and (222, InProgress) g both 0: ties broken by key.
    summary = summarise(records(), ["account_id", "status"])

    assert summary.as_dict()["groups"] == [
        group({"account_id": A, "status": "Completed"}, 2, 4.0, 2.5, 75.0, 0),
        group({"account_id": B, "status": "Failed"}, 3, 2.0833, 1.5278, 53.33, 3),
        group({"account_id": A, "status": "Stopped"}, 1, 0.1667, 0.1667, None, 0),
        group({"account_id": A, "status": "InProgress"}, 1, 0.0, 0.0, None, 0),
        group({"account_id": B, "status": "InProgress"}, 1, 0.0, 0.0, None, 0),
    ]
    assert summary.as_dict()["totals"] == TOTALS


def test_spot_savings_sums_seconds_without_weighting_by_instances() -> None:
    # Job 1: 4 instances, 1000 s training, 200 s billable; job 2: 1 instance, 1000 s / 800 s.
    # Seconds: 1 - 1000/2000 = 50 %. Weighted by instances it would be 1 - 1600/5000 = 68 %.
    tally = Tally()
    for count, billable in ((4, 200), (1, 800)):
        tally.add(
            {
                "resource_config": {"instance_count": count},
                "training_time_in_seconds": 1000,
                "billable_time_in_seconds": billable,
                "enable_managed_spot_training": True,
            }
        )
    assert tally.spot_savings_percent() == 50.0
    assert tally.as_dict()["billable_instance_hours"] == round(1600 / 3600, 4)


def test_spot_savings_is_null_without_spot_jobs_or_with_zero_training_time() -> None:
    tally = Tally()
    tally.add({"training_time_in_seconds": 10, "billable_time_in_seconds": 5})
    assert tally.spot_savings_percent() is None
    tally.add(
        {
            "enable_managed_spot_training": True,
            "training_time_in_seconds": 0,
            "billable_time_in_seconds": 0,
        }
    )
    assert tally.spot_savings_percent() is None


def test_records_missing_fields_are_counted_without_crashing() -> None:
    bare = {"training_job_name": "x", "training_job_arn": "arn:aws:sagemaker:::training-job/x"}
    odd = {
        **bare,
        "resource_config": "?",
        "tags": "?",
        "creation_time": 5,
        "training_job_status": 3,
    }
    summary = summarise([bare, odd], ["status", "instance_type", "region", "month", "tag:t"])

    assert summary.as_dict()["groups"] == [
        group(
            dict.fromkeys(["status", "instance_type", "region", "month", "tag:t"]), 2, 0, 0, None, 0
        )
    ]


def test_account_id_falls_back_to_the_arn() -> None:
    record = {"training_job_arn": "arn:aws:sagemaker:us-west-2:333333333333:training-job/x"}
    assert group_value(record, "account_id") == "333333333333"
    assert group_value(record, "region") == "us-west-2"


def test_tag_value_is_the_rest_after_the_whole_key_and_its_colon() -> None:
    record = {"tags": ["team-lead:ann", "team:vision:cv", "aws:cloudformation:stack-name:s-1"]}
    assert group_value(record, "tag:team") == "vision:cv"
    assert group_value(record, "tag:aws:cloudformation:stack-name") == "s-1"
    assert group_value(record, "tag:aws") == "cloudformation:stack-name:s-1"
    assert group_value(record, "tag:owner") is None


def test_month_is_the_utc_creation_month() -> None:
    assert group_value({"creation_time": "2026-02-28T23:30:00-01:00"}, "month") == "2026-03"
    assert group_value({"creation_time": "2026-02-01T00:00:00.500Z"}, "month") == "2026-02"
    assert group_value({"creation_time": "not a date"}, "month") is None


@pytest.mark.parametrize("text", ["nope", "tag:", "Status", "tag"])
def test_parse_dimension_rejects_unknown_values(text: str) -> None:
    with pytest.raises(ValueError, match="is not one of"):
        parse_dimension(text)


def test_summarise_rejects_a_repeated_dimension() -> None:
    with pytest.raises(ValueError, match="only once"):
        summarise([], ["status", "status"])


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (
            [b'{"training_job_name": "a", "training_job_arn": "x"}\n', b"\n", b"{oops\n"],
            ":3: not valid",
        ),
        ([b"[1, 2]\n"], ":1: not a JSON object"),
        ([b'"text"\n'], ":1: not a JSON object"),
        ([b'{"training_job_name": "a"}\n'], ":1: not a training-job record (no training_job_arn)"),
        (
            [b"\n", b'{"training_job_arn": "x"}'],
            ":2: not a training-job record (no training_job_name)",
        ),
        ([b"\xff\xfe{}\n"], ":1: not valid"),
    ],
)
def test_read_records_names_the_first_bad_line(lines: list[bytes], problem: str) -> None:
    with pytest.raises(InventoryError) as caught:
        list(read_records(lines, "inv.jsonl"))
    assert str(caught.value).startswith("inv.jsonl" + problem)


def test_read_records_skips_blank_lines_and_streams() -> None:
    good = b'{"training_job_name": "a", "training_job_arn": "x"}\n'
    stream = iter([b"  \n", good, b"\r\n", good, b"not json\n"])
    reader = read_records(stream, "s")
    assert next(reader)["training_job_name"] == "a"
    assert next(reader)["training_job_name"] == "a"
    # The bad line has not been read yet: records come out one at a time.
    assert next(stream) == b"not json\n"


def render(function: Any, *args: Any, width: int = 120) -> str:
    buffer = io.StringIO()
    function(*args, Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()


def test_summary_table_shows_groups_totals_and_bars() -> None:
    output = render(render_summary, summarise(records(), ["tag:team"]))

    assert "vision" in output
    assert "(none)" in output
    assert "Total" in output
    assert "6.25" in output
    assert "4.19" in output
    assert "71.3%" in output
    assert "█" in output


def bar_lengths(output: str) -> list[tuple[str, int]]:
    """Each row's first cell and the length of its bar (the last cell)."""
    rows = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return [(row[1].strip(), len(row[-2].strip())) for row in rows if row[1].strip() != "Total"]


def test_month_table_is_chronological_and_charts_billable_hours() -> None:
    output = render(render_summary, summarise(records(), ["month"]))
    # Billable hours 2.5, 1.6667, 0.0278: the bars follow them, not the job counts (2, 3, 3).
    months, lengths = zip(*bar_lengths(output), strict=True)
    assert months == ("2026-01", "2026-02", "2026-03")
    assert lengths[0] > lengths[1] > lengths[2]
    assert "Billable-h bar" in output


def test_bars_follow_the_measure_rows_are_sorted_by() -> None:
    # Regression: --by tag:team --by month sorted rows by billable hours but drew job counts.
    summary = summarise(records(), ["tag:team", "month"])
    output = render(render_summary, summary, width=160)
    lengths = [length for _, length in bar_lengths(output)]
    hours = [group["billable_instance_hours"] for group in summary.as_dict()["groups"]]
    assert hours == sorted(hours, reverse=True)
    assert lengths == sorted(lengths, reverse=True)
    assert len(set(lengths)) > 2


def test_tables_print_user_text_literally() -> None:
    # "[/red]" in a job name and "[bt]" in a reason are rich markup if printed as plain strings.
    failures = render(render_failures, collect_failures(records()), width=200)
    assert "job-h[/red]" in failures
    assert "[bt] not found" in failures


def test_running_table_lists_jobs_and_percent_used() -> None:
    output = render(render_running, collect_running(records(), NOW), NOW)
    assert "job-f" in output
    assert "83%" in output
    assert "2026-03-01T13:00:00Z" in output


def test_empty_inventory_renders_a_sentence() -> None:
    assert "No training jobs" in render(render_summary, summarise([], ["status"]))
    assert "No failed" in render(render_failures, [])
    assert "No jobs in progress" in render(render_running, [], NOW)


def test_bar_scales_to_width_in_eighths() -> None:
    assert bar(10, 10, width=4).plain == "████"
    assert bar(5, 10, width=4).plain == "██"
    assert bar(1, 16, width=4).plain == "▎"
    assert bar(1, 10_000, width=4).plain == "▏"
    assert bar(0, 10, width=4).plain == ""
