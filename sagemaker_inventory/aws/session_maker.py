"""Every boto3 and botocore session smi uses is made here, and nowhere else.

`SessionFactory` (sessions.py) keeps and configures the sessions of a run; the data readers
(regions, pacing's operation names, profile names), the role-session template and the demo ask
for plain ones. Kept apart from sessions.py, which imports those modules, so that none of them
imports sessions.py back (tests/test_aws_edge.py holds the one-place rule, test_code_limits.py the
no-cycle rule).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    import botocore.session


def botocore_session(
    profile: str | None = None,
    *,
    loader: Any = None,
    event_hooks: Any = None,
    builtin_handlers: bool = True,
) -> botocore.session.Session:
    """A new botocore session of `profile`. Plain ones read what the config files and botocore's
    data say (profiles, regions, operation names); `handler_template` makes role sessions' cores
    with `event_hooks` (an emitter to start from) and without botocore's `builtin_handlers`.
    `loader` (e.g. `service_models.shared_loader()`) replaces the session's own data loader."""
    import botocore.session

    session = botocore.session.Session(
        profile=profile, event_hooks=event_hooks, include_builtin_handlers=builtin_handlers
    )
    if loader is not None:
        session.register_component("data_loader", loader)
    return session


def boto3_session(
    profile: str | None = None,
    *,
    region_name: str | None = None,
    core: botocore.session.Session | None = None,
) -> boto3.Session:
    """A boto3 Session of `profile` (the default credential chain when None), or around `core`."""
    import boto3

    if core is not None:
        return boto3.Session(botocore_session=core)
    return boto3.Session(profile_name=profile, region_name=region_name)


def full_model_session() -> boto3.Session:
    """A boto3 Session of the default credential chain whose clients have every operation of
    botocore's models (a SessionFactory's SageMaker clients have only smi's): the demo seeds moto
    with it. The models are parsed once per process, not once per session."""
    return boto3_session(core=botocore_session(loader=_full_loader()))


@functools.cache
def _full_loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()
