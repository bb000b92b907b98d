"""The retry mode and attempts a session's clients use, taken as the AWS CLI takes them.

AWS_RETRY_MODE and AWS_MAX_ATTEMPTS, else the profile's `retry_mode` and `max_attempts`, are the
user's; smi's own defaults (`DEFAULT_RETRY_MODE`, `DEFAULT_MAX_ATTEMPTS`) fill in only what the
user left unset, and only they are written into the clients' Config, so botocore reads the rest
where the user put it. A value botocore would refuse at the first client is refused here, naming
where it came from. `max_attempts` counts every attempt, the first included, as AWS_MAX_ATTEMPTS
does (botocore's `total_max_attempts`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# botocore's retry settings, layer 2 of the throttling design (adaptive_rate's docstring, which
# also says why "standard" and not "adaptive").
DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 10
RETRY_MODES = ("legacy", "standard", "adaptive")

# The variables the AWS CLI and botocore read the two settings from.
_VARIABLES = {"retry_mode": "AWS_RETRY_MODE", "max_attempts": "AWS_MAX_ATTEMPTS"}


class RetrySettingError(ValueError):
    """A retry setting botocore would refuse; the message names it, its value and its origin."""


@dataclass(frozen=True)
class RetrySettings:
    """The retry mode and total attempts in use, each with where it came from ("environment",
    "profile" or "default")."""

    mode: str = DEFAULT_RETRY_MODE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    mode_source: str = "default"
    max_attempts_source: str = "default"

    def config_retries(self) -> dict[str, Any]:
        """The `retries` of botocore's Config: only smi's defaults. What the user set is left
        out, so that botocore reads it where the user put it, as the AWS CLI does."""
        retries: dict[str, Any] = {}
        if self.mode_source == "default":
            retries["mode"] = self.mode
        if self.max_attempts_source == "default":
            retries["total_max_attempts"] = self.max_attempts
        return retries

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "max_attempts": self.max_attempts,
            "source": {"mode": self.mode_source, "max_attempts": self.max_attempts_source},
        }


def retry_settings(
    session: Any,
    profile: str | None,
    *,
    default_mode: str = DEFAULT_RETRY_MODE,
    default_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> RetrySettings:
    """The settings of `session` (a botocore session of `profile`): the user's where set, else the
    defaults. Raises RetrySettingError for a mode botocore does not know or attempts that are not
    a positive whole number."""
    mode, mode_source = _user_value(session, profile, "retry_mode")
    attempts, attempts_source = _user_value(session, profile, "max_attempts")
    if mode is not None and str(mode) not in RETRY_MODES:
        where = _where("retry_mode", mode_source, profile)
        raise RetrySettingError(
            f"{where}={mode!r} is not a retry mode: use one of {', '.join(RETRY_MODES)}"
        )
    if attempts is not None and not _positive_whole(attempts):
        where = _where("max_attempts", attempts_source, profile)
        raise RetrySettingError(f"{where}={attempts!r} is not a positive whole number")
    return RetrySettings(
        mode=default_mode if mode is None else str(mode),
        max_attempts=default_attempts if attempts is None else int(attempts),
        mode_source=mode_source,
        max_attempts_source=attempts_source,
    )


def _user_value(session: Any, profile: str | None, name: str) -> tuple[Any, str]:
    """(value, "environment" | "profile") of what the user set, or (None, "default"). botocore's
    `get_config_variable` answers its own default when nothing is set, so the two places are
    read directly: the variable, then the profile's section (`get_scoped_config`)."""
    value = os.environ.get(_VARIABLES[name])
    if value:
        return value, "environment"
    value = session.get_scoped_config().get(name)
    if value:
        return value, "profile"
    return None, "default"


def _where(name: str, source: str, profile: str | None) -> str:
    if source == "environment":
        return _VARIABLES[name]
    return f"{name} of profile {profile or 'default'!r}"


def _positive_whole(value: Any) -> bool:
    try:
        return int(value) >= 1 and int(value) == float(value)
    except (TypeError, ValueError):
        return False
