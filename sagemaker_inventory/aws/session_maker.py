"""Every boto3 and botocore session smi uses is made here, and nowhere else.

`SessionFactory` (sessions.py) keeps and configures the sessions of a run (botocore sessions set
up as boto3 sets up its own, see `as_boto3_core`); the data readers (regions, pacing's operation
names, profile names), the role-session template and the demo ask for plain ones. Kept apart
from sessions.py, which imports those modules, so that none of them imports sessions.py back
(tests/test_aws_edge.py holds the one-place rule, test_code_limits.py the no-cycle rule).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
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


def configured_session(
    profile: str | None = None, *, region_name: str | None = None
) -> botocore.session.Session:
    """A session of `profile` (the default credential chain when None) whose region is
    `region_name` when given (else the environment's or the profile's), as `boto3.Session(
    profile_name=profile, region_name=region_name)` would make its core (see `as_boto3_core`)."""
    session = botocore_session(profile)
    if region_name is not None:
        session.set_config_variable("region", region_name)
    return as_boto3_core(session)


def as_boto3_core(session: botocore.session.Session) -> botocore.session.Session:
    """`session` as `boto3.Session(botocore_session=session)` leaves it, without importing boto3
    (which loads s3transfer and multiprocessing, for nothing smi calls): its clients send boto3's
    User-Agent, and the config files are read now, so that an unknown profile (ProfileNotFound)
    or a malformed file (ConfigParseError) fails here, not at a first call. What else a boto3
    Session adds serves resources (S3, DynamoDB and EC2 handlers, resource models): no client of
    smi's uses them."""
    # As boto3.Session.__init__ does.
    if session.user_agent_name == "Botocore":
        botocore_info = f"Botocore/{session.user_agent_version}"
        extra = session.user_agent_extra
        session.user_agent_extra = f"{extra} {botocore_info}" if extra else botocore_info
        session.user_agent_name = "Boto3"
        session.user_agent_version = boto3_version()
    # As boto3.Session._setup_loader does: the loader's data path is the profile's setting.
    session.get_component("data_loader")
    return session


def session_region(session: botocore.session.Session) -> str | None:
    """The session's default region (boto3's `Session.region_name`): the one it was made with,
    else AWS_DEFAULT_REGION, else the profile's; None when none is set."""
    region = session.get_config_variable("region")
    return None if region is None else str(region)


@functools.cache
def boto3_version() -> str:
    """boto3's `__version__`, read from its package's `__init__.py` without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("boto3")
    if spec is not None and spec.origin is not None:
        text = Path(spec.origin).read_text(encoding="utf-8")
        found = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]$", text, re.MULTILINE)
        if found:
            return found.group(1)
    import boto3

    return str(boto3.__version__)


def boto3_session(
    profile: str | None = None,
    *,
    region_name: str | None = None,
    core: botocore.session.Session | None = None,
) -> boto3.Session:
    """A boto3 Session of `profile` (the default credential chain when None), or around `core`
    (the demo's: moto seeds its backend through boto3)."""
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
