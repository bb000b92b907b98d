"""Where one account's credentials come from: the plain type the AWS edge builds sessions for.

It lives in aws/ so that aws/ needs nothing from collect/ (which composes aws/, never the
reverse); `collect.scopes` pairs it with a region into a Scope.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountSource:
    """Where one account's credentials come from: the default chain, a named profile, or a role.

    With `role_arn` set, the role is assumed from `base_profile`'s credentials (None: the default
    chain) and `profile` is unused; `external_id`, `session_name` and `duration_seconds` are passed
    to AssumeRole. `account_id` is known up front for roles; otherwise STS resolves it.
    """

    profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None
    base_profile: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    duration_seconds: int | None = None

    @property
    def label(self) -> str:
        if self.role_arn:
            return self.role_arn
        if self.profile:
            return f"profile {self.profile}"
        return "default credentials"
