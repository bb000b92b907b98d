"""Turning --profile / --region / --all-regions into account sources and checked region names.

An unknown profile or region is a usage error (exit 2) naming it, raised before any AWS call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import click

from sagemaker_inventory.aws.sessions import SessionFactory


def check_profiles(factory: SessionFactory, profiles: Iterable[str]) -> None:
    """Raise click.BadParameter naming the first profile the AWS config files do not define."""
    for profile in profiles:
        _session(factory, profile)


def _session(factory: SessionFactory, profile: str | None) -> Any:
    from botocore.exceptions import ConfigParseError, ProfileNotFound

    try:
        return factory.session(profile)
    except ConfigParseError as exc:
        # A malformed ~/.aws/config (or AWS_CONFIG_FILE) is bad input, not a crash.
        raise click.UsageError(str(exc)) from None
    except ProfileNotFound as exc:
        known = _known_profiles()
        if profile is None:
            # The default chain named a profile through the environment, not --profile.
            variable = _profile_variable()
            raise click.UsageError(
                f"{variable}={exc.kwargs.get('profile')!r} names no profile in the AWS config"
                f" files{known}: fix or unset {variable}, or pass --profile"
            ) from None
        raise click.BadParameter(
            f"no such profile: {profile!r}{known}", param_hint="'--profile'"
        ) from None


def _profile_variable() -> str:
    import os

    return "AWS_PROFILE" if os.environ.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"


def _known_profiles() -> str:
    """ " (known profiles: a, b)" from the config files, for a message about an unknown one."""
    import botocore.session

    try:
        names = sorted(botocore.session.Session(profile=None).available_profiles)
    except Exception:
        return ""
    return f" (known profiles: {', '.join(names)})" if names else " (none is defined)"


def resolve_regions(
    factory: SessionFactory, profile: str | None, regions: Sequence[str], all_regions: bool
) -> list[str]:
    """The regions named (checked against botocore's data), every SageMaker region, or the
    profile's default region."""
    from sagemaker_inventory.aws.regions import (
        UnknownRegionError,
        parse_regions,
        partition_of,
        sagemaker_regions,
    )
    from sagemaker_inventory.aws.sessions import region_origin

    default = _session(factory, profile).region_name
    if all_regions:
        if regions:
            raise click.UsageError("pass either --region or --all-regions, not both")
        try:
            return sagemaker_regions(partition_of(default) if default else "aws")
        except UnknownRegionError as exc:
            raise _unknown_default_region(exc.args[0], region_origin(profile)) from None
    if not regions and not default:
        raise click.UsageError(
            "no region: pass --region/-r (e.g. -r us-east-1), --all-regions, "
            "or set AWS_REGION or a region in your profile"
        )
    try:
        return parse_regions(list(regions) or [str(default)])
    except UnknownRegionError as exc:
        if not regions:
            raise _unknown_default_region(exc.args[0], region_origin(profile)) from None
        raise click.BadParameter(
            f"unknown region {exc.args[0]!r} (not in botocore's region list)",
            param_hint="'-r' / '--region'",
        ) from None


def _unknown_default_region(region: str, origin: str) -> click.UsageError:
    return click.UsageError(
        f"unknown region {region!r} from {origin} (not in botocore's region list)"
    )
