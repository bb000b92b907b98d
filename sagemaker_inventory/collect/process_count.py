"""How many processes collect a run's scopes: as asked, or chosen from the number of scopes and the
cores this process may use; always one while AWS is mocked inside this process (`--demo`, moto),
since another process could not reach that backend.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

# The automatic choice: one more process for every this many scopes, up to the usable cores.
SCOPES_PER_PROCESS = 8
# Where a container's CPU limit is: cgroup v2's "QUOTA PERIOD" (or "max PERIOD"), else cgroup
# v1's two files.
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_CPU = Path("/sys/fs/cgroup/cpu")


class InProcessBackendError(ValueError):
    """More than one process was asked for while AWS is mocked inside this process."""


def in_process_aws() -> bool:
    """True while moto mocks AWS inside this process (`--demo`, tests using mock_aws): another
    process would not see that backend, and would reach whatever its endpoints point at."""
    models = sys.modules.get("moto.core.models")
    stubber = getattr(models, "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, not merely those the machine has, and
    no more than its container's CPU limit (a pod limited to 2 CPUs sees every core of its node
    in its affinity, and more processes than the limit would only be throttled)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    return max(1, min(cores, limit)) if limit is not None else cores


def cgroup_cpu_limit(v2: Path = CGROUP_V2_CPU_MAX, v1: Path = CGROUP_V1_CPU) -> int | None:
    """The CPU limit of this process's cgroup, rounded up to whole cores; None when unlimited or
    unknown (not Linux, no cgroup file, a value that cannot be read)."""
    try:
        if v2.exists():
            quota, _, period = v2.read_text(encoding="ascii").strip().partition(" ")
        else:
            quota = (v1 / "cpu.cfs_quota_us").read_text(encoding="ascii").strip()
            period = (v1 / "cpu.cfs_period_us").read_text(encoding="ascii").strip()
        if quota in ("max", "-1"):
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def choose_processes(requested: int | None, scopes: int, max_scopes: int) -> int:
    """How many processes collect `scopes` scopes: `requested` (None: automatic), never more than
    there are scopes or scopes allowed at once. Automatic is one process for a handful of scopes,
    one more for every SCOPES_PER_PROCESS scopes up to the usable cores, and always one while AWS
    is mocked in this process. Raises InProcessBackendError for an explicit N > 1 in that case."""
    if requested is not None and requested < 1:
        raise ValueError(f"processes must be at least 1, not {requested}")
    if in_process_aws():
        if requested is not None and requested > 1:
            raise InProcessBackendError(
                f"--processes {requested}: AWS is mocked inside this process (--demo, moto),"
                " which other processes cannot reach; use --processes 1"
            )
        return 1
    wanted = (
        requested if requested is not None else min(usable_cores(), scopes // SCOPES_PER_PROCESS)
    )
    return max(1, min(wanted, scopes, max_scopes))
