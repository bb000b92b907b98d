"""Turning --region / --all-regions (or the profile's default region) into checked region names.

An unknown region is a usage error (exit 2) naming it, raised before any AWS call.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from sagemaker_inventory.cli.account_options import profile_session

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory


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
    from sagemaker_inventory.aws.session_maker import session_region
    from sagemaker_inventory.aws.sessions import region_origin

    default = session_region(profile_session(factory, profile))
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
            f"unknown region {exc.args[0]!r}{_did_you_mean(exc.args[0])}",
            param_hint="'-r' / '--region'",
        ) from None


def _unknown_default_region(region: str, origin: str) -> click.UsageError:
    return click.UsageError(f"unknown region {region!r} from {origin}{_did_you_mean(region)}")


def _did_you_mean(region: str) -> str:
    """The closest region botocore knows, as `--columns` suggests a column, else where the list
    comes from."""
    from sagemaker_inventory.aws.regions import known_regions

    close = difflib.get_close_matches(region.lower(), sorted(known_regions()), n=1)
    return f" (did you mean {close[0]!r}?)" if close else " (not in botocore's region list)"
