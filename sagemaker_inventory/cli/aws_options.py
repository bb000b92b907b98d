"""Turning --profile / --region / --all-regions into account sources and checked region names."""

from __future__ import annotations

from collections.abc import Sequence

import click

from sagemaker_inventory.scopes import AccountSource
from sagemaker_inventory.sessions import SessionFactory


def account_sources(factory: SessionFactory, profile: str | None) -> list[AccountSource]:
    """The accounts to inventory; an unknown profile is a usage error."""
    from botocore.exceptions import ProfileNotFound

    try:
        factory.session(profile)
    except ProfileNotFound:
        raise click.BadParameter(
            f"no such profile: {profile!r}", param_hint="'--profile'"
        ) from None
    return [AccountSource(profile=profile)]


def resolve_regions(
    factory: SessionFactory, profile: str | None, regions: Sequence[str], all_regions: bool
) -> list[str]:
    """The regions named (checked against botocore's data), every SageMaker region, or the default."""
    from sagemaker_inventory.regions import (
        UnknownRegionError,
        parse_regions,
        partition_of,
        sagemaker_regions,
    )

    default = factory.session(profile).region_name
    if all_regions:
        if regions:
            raise click.UsageError("pass either --region or --all-regions, not both")
        try:
            return sagemaker_regions(partition_of(default) if default else "aws")
        except UnknownRegionError as exc:
            raise click.UsageError(f"unknown default region {exc.args[0]!r}") from None
    wanted = list(regions) or ([default] if default else [])
    if not wanted:
        raise click.UsageError(
            "no region: pass --region/-r (e.g. -r us-east-1), --all-regions, "
            "or set AWS_REGION or a region in your profile"
        )
    try:
        return parse_regions(wanted)
    except UnknownRegionError as exc:
        raise click.BadParameter(
            f"unknown region {exc.args[0]!r} (not in botocore's region list)",
            param_hint="'-r' / '--region'",
        ) from None
