"""tests/data/report_small.jsonl, the eight jobs the `smi report` tests share.

Worked out by hand (inst-s = training seconds x instances, bill-s likewise; spot = jobs
with enable_managed_spot_training and both times):

  job        status      type             n  train  bill  spot  inst-s  bill-s  acct region    month
  job-a      Completed   ml.p4d.24xlarge  2  3600   3600  no    7200    7200    111  us-east-1 01
  job-b      Completed   ml.g5.xlarge     1  7200   1800  yes   7200    1800    111  us-east-1 01
  job-c      Failed      ml.g5.xlarge     4  900    900   no    3600    3600    222  eu-west-1 02
  job-d      Failed      (groups 2+1)     3  1200   600   yes   3600    1800    222  us-east-1 02
  job-e      Stopped     ml.p4d.24xlarge  1  600    600   no    600     600     111  eu-west-1 02
  job-f      InProgress  ml.g5.xlarge     2  -      -     (yes) 0       0       111  us-east-1 03
  job-g      InProgress  ml.p4d.24xlarge  1  -      -     no    0       0       222  eu-west-1 03
  job-h[/red] Failed     ml.g5.xlarge     1  300    100   yes   300     100     222  eu-west-1 03

  tags: a stack-1 + team:vision, b team:vision, c team:nlp, d stack-1, f team:vision, h team:nlp
  (stack-1 is the value of aws:cloudformation:stack-name).

Totals: 8 jobs; inst-s 7200+7200+3600+3600+600+300 = 22500 -> 6.25 h; bill-s 7200+1800+3600+1800
+600+100 = 15100 -> 4.19444 h; spot b, d, h: train 7200+1200+300 = 8700, bill 1800+600+100 = 2500
-> (1 - 2500/8700) x 100 = 71.264 %; failed c, d, h = 3.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sagemaker_inventory.report.inputs import read_records

REPORT_SMALL = Path(__file__).parent / "data" / "report_small.jsonl"
# The moment the running jobs (f, g) are measured at.
NOW = datetime(2026, 3, 1, 13, 0, tzinfo=timezone.utc)
A, B = "111111111111", "222222222222"  # the accounts, 111 and 222 above


def records() -> list[dict[str, Any]]:
    """The jobs, read as `smi report` reads them."""
    with REPORT_SMALL.open("rb") as stream:
        return list(read_records(stream, str(REPORT_SMALL)))
