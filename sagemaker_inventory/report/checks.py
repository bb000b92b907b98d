"""Posture checks behind `smi report --checks`: each job against six security settings, offline.

The four settings Prowler and Steampipe's compliance mod check on training jobs (network isolation,
inter-container encryption, volume and output KMS keys, VPC subnets), plus secrets in the job's
environment or hyperparameters, which AWS shows to anyone allowed to describe the job. Sharper than
those tools where the API allows: inter-container encryption only matters with more than one
instance, and a volume key cannot be set on instance types whose storage is local NVMe.

A check answers PASSED, NOT_APPLICABLE or a failure's detail (a string). Records are folded one by
one into counts per check (and per `--by` group); findings are handed to a callback as they are
found, so a caller can stream them or keep them.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

from sagemaker_inventory.records.arns import region_of
from sagemaker_inventory.records.instances import instance_count, instance_groups
from sagemaker_inventory.records.record import Record, record_json
from sagemaker_inventory.records.redaction import is_secret_key
from sagemaker_inventory.report.aggregate import GroupKey, group_value, parse_dimension


class _Verdict:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


PASSED: Final = _Verdict("PASSED")
NOT_APPLICABLE: Final = _Verdict("NOT_APPLICABLE")
# A failure is its detail: a short sentence naming the setting and what it is.
Verdict = _Verdict | str

# Instance families whose storage is local NVMe instance store, where SageMaker encrypts the volume
# with a hardware module and rejects a VolumeKmsKeyId (botocore's ResourceConfig.VolumeKmsKeyId:
# "Certain Nitro-based instances include local storage ... You can't request a VolumeKmsKeyId when
# using an instance type with local storage"). EC2 marks most such families with a "d" in the
# attributes after the generation (g4dn, p3dn, p4d, p4de, r5d, m5d, c5d); the GPU and Trainium
# families below have NVMe instance store without the letter (EC2's instance-store table).
LOCAL_STORAGE_FAMILIES: Final = frozenset(
    {"g5", "g6", "g6e", "g7e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"}
)
_D_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*d[a-z]*$")
_P6_FAMILY = re.compile(r"^p6e?-")  # p6-b200, p6-b300, p6e-gb200: NVMe instance store


def has_local_storage(instance_type: str) -> bool:
    """True for `ml.<family>.<size>` types whose family has NVMe instance store (see above)."""
    parts = instance_type.split(".")
    if len(parts) != 3 or parts[0] != "ml":
        return False
    family = parts[1]
    return (
        family in LOCAL_STORAGE_FAMILIES
        or bool(_D_FAMILY.match(family))
        or bool(_P6_FAMILY.match(family))
    )


def _flag(record: Record, name: str) -> str | None:
    """None when the boolean setting is true, else how it is not (false or absent)."""
    value = record.get(name)
    if value is True:
        return None
    return f"{name} is absent" if value is None else f"{name} is {_json(value)}"


def _json(value: object) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _nested(record: Record, parent: str, name: str) -> object:
    config = record.get(parent)
    return config.get(name) if isinstance(config, Mapping) else None


def _empty_setting(record: Record, parent: str, name: str) -> str | None:
    """None when parent.name is a non-empty value, else how it is missing."""
    value = _nested(record, parent, name)
    if value is None:
        return f"{parent}.{name} is absent"
    if value in ("", [], {}):
        return f"{parent}.{name} is empty"
    return None


def check_network_isolation(record: Record) -> Verdict:
    return _flag(record, "enable_network_isolation") or PASSED


def check_inter_container_encryption(record: Record) -> Verdict:
    count = instance_count(record)
    if count is None or count <= 1:
        return NOT_APPLICABLE
    problem = _flag(record, "enable_inter_container_traffic_encryption")
    return f"{count} instances; {problem}" if problem else PASSED


def check_volume_encryption(record: Record) -> Verdict:
    groups = instance_groups(record) or []
    types = [t for t, _ in groups if isinstance(t, str)]
    if types and len(types) == len(groups) and all(has_local_storage(t) for t in types):
        return NOT_APPLICABLE
    return _empty_setting(record, "resource_config", "volume_kms_key_id") or PASSED


def check_output_encryption(record: Record) -> Verdict:
    return _empty_setting(record, "output_data_config", "kms_key_id") or PASSED


def check_vpc(record: Record) -> Verdict:
    return _empty_setting(record, "vpc_config", "subnets") or PASSED


SECRET_MAPS: Final = ("environment", "hyper_parameters")


def check_secrets_in_environment(record: Record) -> Verdict:
    found = []
    for name in SECRET_MAPS:
        values = record.get(name)
        if isinstance(values, Mapping):
            keys = sorted(key for key in values if isinstance(key, str) and is_secret_key(key))
            if keys:
                found.append(f"{name} keys {', '.join(keys)}")
    if not found:
        return PASSED
    return "; ".join(found) + " (visible to anyone who can describe the job)"


@dataclass(frozen=True)
class Check:
    """One posture check: its id, what it wants, how bad a failure is, and its rule."""

    id: str
    title: str
    severity: str
    evaluate: Callable[[Record], Verdict]


CHECKS: Final[tuple[Check, ...]] = (
    Check("network_isolation", "Network isolation enabled", "medium", check_network_isolation),
    Check(
        "inter_container_encryption",
        "Inter-container traffic encrypted (multi-instance jobs)",
        "medium",
        check_inter_container_encryption,
    ),
    Check(
        "volume_encryption",
        "Storage volume encrypted with a KMS key",
        "medium",
        check_volume_encryption,
    ),
    Check(
        "output_encryption", "Output encrypted with a KMS key", "medium", check_output_encryption
    ),
    Check("vpc", "Runs in a VPC (subnets set)", "medium", check_vpc),
    Check(
        "secrets_in_environment",
        "No secret-looking keys in environment or hyperparameters",
        "high",
        check_secrets_in_environment,
    ),
)
CHECK_IDS: Final = tuple(check.id for check in CHECKS)


@dataclass(frozen=True, slots=True)
class Finding:
    """One (job, check) pair that fails."""

    check: str
    training_job_name: str
    training_job_arn: str
    account_id: str | None
    region: str | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "training_job_name": self.training_job_name,
            "training_job_arn": self.training_job_arn,
            "account_id": self.account_id,
            "region": self.region,
            "detail": self.detail,
        }


@dataclass
class CheckCount:
    """Jobs a check passed, failed, or did not apply to."""

    passed: int = 0
    failed: int = 0
    not_applicable: int = 0


@dataclass
class GroupFindings:
    """Failures per check within one `--by` group."""

    jobs: int = 0
    jobs_with_findings: int = 0
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECK_IDS, 0))

    @property
    def findings(self) -> int:
        return sum(self.failed.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "jobs_with_findings": self.jobs_with_findings,
            "findings": self.findings,
            "failed": dict(self.failed),
        }


def _key_order(key: GroupKey) -> tuple[tuple[int, str], ...]:
    return tuple((1, "") if part is None else (0, part) for part in key)


@dataclass
class Posture:
    """The `--checks` answer: counts per check, findings, and (with --by) failures per group."""

    by: tuple[str, ...]
    counts: dict[str, CheckCount] = field(
        default_factory=lambda: {check_id: CheckCount() for check_id in CHECK_IDS}
    )
    findings: list[Finding] = field(default_factory=list)
    groups: dict[GroupKey, GroupFindings] = field(default_factory=dict)
    jobs: int = 0
    total_findings: int = 0

    def ordered_groups(self) -> list[tuple[GroupKey, GroupFindings]]:
        """Most findings first, then most jobs, then by key."""
        return sorted(
            self.groups.items(),
            key=lambda item: (-item[1].findings, -item[1].jobs, _key_order(item[0])),
        )

    def checks_dict(self) -> list[dict[str, Any]]:
        return [
            {
                "id": check.id,
                "title": check.title,
                "severity": check.severity,
                "passed": self.counts[check.id].passed,
                "failed": self.counts[check.id].failed,
                "not_applicable": self.counts[check.id].not_applicable,
            }
            for check in CHECKS
        ]

    def as_dict(self, *, findings: bool = True) -> dict[str, Any]:
        """{"checks": [...], "findings": [...]}, plus "by" and "groups" when grouped."""
        document: dict[str, Any] = {"checks": self.checks_dict()}
        if self.by:
            document["by"] = list(self.by)
            document["groups"] = [
                {"key": dict(zip(self.by, key, strict=True)), **group.as_dict()}
                for key, group in self.ordered_groups()
            ]
        if findings:
            document["findings"] = [finding.as_dict() for finding in self.findings]
        return document

    def write_json(self, stream: TextIO) -> None:
        """as_dict() as JSON, one finding a line, without building the whole document (an
        inventory of 100,000 jobs can have half a million findings)."""
        head = json.dumps(self.as_dict(findings=False), indent=2, ensure_ascii=False)
        stream.write(head[: -len("\n}")] + ',\n  "findings": [')
        separator = "\n    "
        for finding in self.findings:
            stream.write(separator + record_json(finding.as_dict()))
            separator = ",\n    "
        stream.write("\n  ]\n}\n" if self.findings else "]\n}\n")

    def write_jsonl(self, stream: TextIO) -> None:
        """One finding per line, compact as `smi collect`'s records (records.record_json)."""
        for finding in self.findings:
            stream.write(record_json(finding.as_dict()) + "\n")


def _account_id(record: Record) -> str | None:
    return group_value(record, "account_id")


def findings_of(record: Record, checks: Sequence[Check] = CHECKS) -> list[tuple[Check, Verdict]]:
    """Every check's verdict on one record."""
    return [(check, check.evaluate(record)) for check in checks]


def assess(
    records: Iterable[Record],
    by: Sequence[str] = (),
    on_finding: Callable[[Finding], None] | None = None,
) -> Posture:
    """Run every check on every record. Findings go to `on_finding` when given (to stream them),
    else they are kept in Posture.findings in input order (checks in CHECKS order per job)."""
    dimensions = tuple(parse_dimension(d) for d in by)
    posture = Posture(by=dimensions)
    keep = posture.findings.append if on_finding is None else on_finding
    for record in records:
        posture.jobs += 1
        group = None
        if dimensions:
            key = tuple(group_value(record, d) for d in dimensions)
            group = posture.groups.get(key)
            if group is None:
                group = posture.groups[key] = GroupFindings()
            group.jobs += 1
        failed_any = False
        for check, verdict in findings_of(record):
            count = posture.counts[check.id]
            if verdict is PASSED:
                count.passed += 1
            elif verdict is NOT_APPLICABLE:
                count.not_applicable += 1
            else:
                count.failed += 1
                failed_any = True
                posture.total_findings += 1
                if group is not None:
                    group.failed[check.id] += 1
                keep(_finding(check, record, str(verdict)))
        if group is not None and failed_any:
            group.jobs_with_findings += 1
    return posture


def _finding(check: Check, record: Record, detail: str) -> Finding:
    return Finding(
        check=check.id,
        training_job_name=str(record["training_job_name"]),
        training_job_arn=str(record["training_job_arn"]),
        account_id=_account_id(record),
        region=region_of(record),
        # Few distinct details recur across jobs: keep one copy of each.
        detail=sys.intern(detail),
    )
