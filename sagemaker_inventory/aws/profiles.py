"""The AWS config files' profiles: their names, and a profile's session with botocore's config
errors (an unknown profile, a malformed file) turned into smi's own, so that the click layer can
word them as usage errors without knowing botocore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.session import Session

    from sagemaker_inventory.aws.sessions import SessionFactory


class ConfigFileError(ValueError):
    """The AWS config file (or AWS_CONFIG_FILE) cannot be parsed, or sets what botocore would
    refuse (a retry setting); the message is botocore's or names the setting."""


class UnknownProfileError(LookupError):
    """No profile of that name in the AWS config files. `profile` is the name botocore looked
    up: the one passed, or the one the environment (AWS_PROFILE) named when None was."""

    def __init__(self, profile: str | None) -> None:
        super().__init__(profile)
        self.profile = profile


def profile_session(factory: SessionFactory, profile: str | None) -> Session:
    """`factory.session(profile)`, raising ConfigFileError or UnknownProfileError for the
    config files' problems (and the retry variables': see `retry_settings`)."""
    from botocore.exceptions import ConfigParseError, ProfileNotFound

    from sagemaker_inventory.aws.retry_settings import RetrySettingError

    try:
        return factory.session(profile)
    except (ConfigParseError, RetrySettingError) as exc:
        raise ConfigFileError(str(exc)) from None
    except ProfileNotFound as exc:
        raise UnknownProfileError(exc.kwargs.get("profile")) from None


def profile_names() -> list[str]:
    """The profiles the AWS config files define, sorted (raises when they cannot be read)."""
    from sagemaker_inventory.aws.session_maker import botocore_session

    return sorted(botocore_session().available_profiles)
