"""How long an AWS client waits for a connection, and then for each read of an answer.

The AWS CLI's --cli-connect-timeout and --cli-read-timeout, as `smi collect --connect-timeout`
and `--read-timeout`; botocore's `Config` applies them to every attempt. A connection that takes
seconds is a dead endpoint, but a service may think for a while before it answers. Kept free of
botocore, so the CLI can show the defaults without loading it.
"""

from __future__ import annotations

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
