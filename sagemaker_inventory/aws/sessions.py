"""The one place that builds the run's sessions and clients: profiles, roles, retries, endpoints.

Sessions are botocore's, set up as a boto3 Session sets up its own (`session_maker.as_boto3_core`:
the same clients, User-Agent and errors, without importing boto3). Sessions are not thread-safe but
clients are, so every session and client is built here, under one lock, before it is handed to a
worker thread. An assumed role gets a session of its own whose credentials botocore refreshes by
itself (AssumeRoleCredentialFetcher feeding a RefreshableCredentials): nothing here tracks expiry.
All sessions share the process's one botocore data loader, because each loader parses the (large)
SageMaker service model again, at a cost in memory and CPU for every account; it hands out
SageMaker's model cut to the operations smi calls (see `service_models`). The roles assumed with the
same base keys share one STS client, and role sessions copy botocore's built-in event handlers
instead of registering them again (see `handler_template`). Clients are configured through
botocore's `Config` only: the user's retry settings where set (`retry_settings`), the run's timeouts
and endpoint.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    Credentials,
    RefreshableCredentials,
)
from botocore.parsers import ResponseParserFactory

from sagemaker_inventory.aws.account_source import AccountSource
from sagemaker_inventory.aws.fetch import ThrottleRetry
from sagemaker_inventory.aws.handler_template import HandlerTemplate
from sagemaker_inventory.aws.identity import PARTITION_HOME_REGIONS, Identities
from sagemaker_inventory.aws.latest import ROLE_SESSIONS_KEPT, Latest
from sagemaker_inventory.aws.retry_settings import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_MODE,
    RetrySettings,
    retry_settings,
)
from sagemaker_inventory.aws.retry_waits import RunStop
from sagemaker_inventory.aws.service_models import shared_loader
from sagemaker_inventory.aws.session_maker import as_boto3_core, configured_session, session_region
from sagemaker_inventory.aws.timeouts import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from sagemaker_inventory.records.arns import parse_arn
from sagemaker_inventory.records.timestamps import as_utc
from sagemaker_inventory.scrubbing import remember_credentials, remember_secret

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.session import Session

# botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry; with
# 15-minute credentials that would mean an AssumeRole before every request, so short sessions
# refresh after three quarters of their life instead.
ADVISORY_REFRESH_SECONDS = 15 * 60
MANDATORY_REFRESH_SECONDS = 10 * 60
# The expiry of role keys not fetched yet: past, so that their first use fetches them.
_NOT_FETCHED = datetime(1970, 1, 1, tzinfo=timezone.utc)

Clock = Callable[[], datetime]

# The services whose clients are built from an assumed role's session: a scope's SageMaker and
# tagging clients, and STS for the account's identity. Role sessions carry botocore's built-in
# handlers for these only (see `handler_template`).
ROLE_SESSION_SERVICES = frozenset({"sagemaker", "resourcegroupstaggingapi", "sts"})


@dataclass(frozen=True)
class ClientOptions:
    """How every AWS client of a run is configured. `retry_mode` and `max_attempts` (every
    attempt, the first included) apply only where the user set nothing (see `retry_settings`)."""

    endpoint_url: str | None = None
    retry_mode: str = DEFAULT_RETRY_MODE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_pool_connections: int = 32


class SessionFactory:
    """Builds and caches sessions per profile and per assumed role, and clients with the
    run's options. `clock` (tests) replaces the time botocore's refreshable credentials read;
    `stop` (the run's) cuts every client's requests and retry waits short once set."""

    def __init__(
        self,
        options: ClientOptions | None = None,
        *,
        clock: Clock | None = None,
        stop: RunStop | None = None,
    ) -> None:
        self.options = options or ClientOptions()
        self._clock = clock
        self.stop = stop or RunStop()
        # Re-entrant: a refresh that runs while this thread builds a client must not deadlock.
        self._lock = threading.RLock()
        self._sessions: dict[str | None, Session] = {}
        self._role_sessions: Latest[AccountSource, Session] = Latest(ROLE_SESSIONS_KEPT)
        self._sts_clients: dict[tuple[Any, ...], Any] = {}
        # Who each profile is, where its STS answered, STS/Organizations calls (identity.py).
        self.identities = Identities()
        self._handlers: HandlerTemplate | None = None
        self._slim_sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._parsers: ResponseParserFactory | None = None
        # The retry settings of each profile's sessions, and of each session by id (set as each
        # session is built, so an id a forgotten role session's reuses is set again).
        self._retries: dict[str | None, RetrySettings] = {}
        self._session_retries: dict[int, RetrySettings] = {}

    def session(self, profile: str | None = None) -> Session:
        """The (cached) session for `profile`, or for the default credential chain when None.

        Raises botocore's ProfileNotFound for an unknown profile, RetrySettingError for a retry
        setting botocore would refuse.
        """
        with self._lock:
            if profile not in self._sessions:
                session = self._share_loader(
                    configured_session(profile, region_name=aws_region_variable())
                )
                opts = self.options
                settings = retry_settings(
                    session,
                    profile,
                    default_mode=opts.retry_mode,
                    default_attempts=opts.max_attempts,
                )
                _remember_keys_of(session)
                self._sessions[profile] = session
                self._retries[profile] = self._session_retries[id(session)] = settings
            return self._sessions[profile]

    def settings_report(self) -> dict[str, Any]:
        """The retry settings and timeouts the run's clients use, for the --report file. One
        `retry` object, or one per profile (with its name) where profiles set different ones."""
        with self._lock:
            by_profile = dict(self._retries)
        opts = self.options
        distinct = list(dict.fromkeys(by_profile.values()))
        retry: Any = (distinct or [self._defaults()])[0].to_json()
        if len(distinct) > 1:
            retry = [{"profile": name, **s.to_json()} for name, s in by_profile.items()]
        timeouts = {"connect_seconds": opts.connect_timeout, "read_seconds": opts.read_timeout}
        return {"retry": retry, "timeouts": timeouts}

    def session_for(self, source: AccountSource) -> Session:
        """The (cached) session of one account: its profile's, or the role's assumed from the base
        profile. The role is assumed on first use, so a role that cannot be assumed fails the
        first call made with the session (its error is AssumeRole's), not this one."""
        if source.role_arn is None:
            return self.session(source.profile)
        role_arn = source.role_arn
        with self._lock:
            return self._role_sessions.get_or_make(
                source, lambda: self._build_role_session(source, role_arn)
            )

    def client(self, session: Session, service: str, region: str) -> Any:
        """A client of `service` in `region` from `session`, with the run's retry/endpoint setup.

        Raises ValueError for a client of a service role sessions do not serve (see
        `ROLE_SESSION_SERVICES`)."""
        with self._lock:
            if session in self._slim_sessions and service not in ROLE_SESSION_SERVICES:
                raise ValueError(
                    f"a role session has botocore's handlers for {sorted(ROLE_SESSION_SERVICES)}"
                    f" only, not {service!r}: add it to ROLE_SESSION_SERVICES"
                )
            return self._new_client(session, service, region)

    def home_region(self, profile: str | None, partition: str = "aws") -> str:
        """The region for account-wide calls (STS, Organizations): the profile's, else the
        partition's home region."""
        region = session_region(self.session(profile))
        return region or PARTITION_HOME_REGIONS.get(partition, "us-east-1")

    def _new_client(self, session: Any, service: str, region: str, **keys: Any) -> Any:
        """A client of `session` with the run's endpoint, retries and timeouts. `keys`: explicit
        credentials (botocore's AssumeRole fetcher passes the base keys of the moment)."""
        # `session: Any`: botocore-stubs type `create_client` per literal service name.
        client = session.create_client(
            service,
            region_name=region,
            endpoint_url=self.options.endpoint_url,
            config=self._config(self._session_retries.get(id(session), self._defaults()), service),
            **keys,
        )
        self.stop.attach(client)  # STS, Organizations, pricing too: a stop reaches every wait
        return client

    def _defaults(self) -> RetrySettings:
        """smi's retry settings, for a session the user's were not read from."""
        return RetrySettings(self.options.retry_mode, self.options.max_attempts)

    def _config(self, settings: RetrySettings, service: str = "") -> Config:
        from botocore.config import Config

        opts = self.options
        retries: Any = settings.config_retries() or None
        # An S3-compatible endpoint (moto, LocalStack, MinIO) serves buckets by path, not by name.
        s3: Any = {"addressing_style": "path"} if service == "s3" and opts.endpoint_url else None
        return Config(
            s3=s3,
            retries=retries,
            connect_timeout=opts.connect_timeout,
            read_timeout=opts.read_timeout,
            max_pool_connections=opts.max_pool_connections,
            user_agent_extra="smi",
        )

    def _build_role_session(self, source: AccountSource, role_arn: str) -> Session:
        from botocore.credentials import CredentialResolver

        base = self.session(source.base_profile)
        credentials = self._assumed_role_credentials(source, role_arn, base)
        if self._handlers is None:
            self._handlers = HandlerTemplate(ROLE_SESSION_SERVICES)
        core = self._handlers.new_session(source.base_profile)
        core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
        session = self._share_loader(as_boto3_core(core))
        self._slim_sessions.add(session)
        # The role's clients retry as the base profile's do (its session read the settings).
        self._session_retries[id(session)] = self._retries[source.base_profile]
        return session

    def _assumed_role_credentials(
        self, source: AccountSource, role_arn: str, base: Session
    ) -> Credentials:
        from botocore.exceptions import NoCredentialsError

        base_credentials = base.get_credentials()
        if base_credentials is None:
            raise NoCredentialsError()
        partition = parse_arn(role_arn).partition
        # Where the base credentials' STS already answered, if it was asked: another region's
        # endpoint may refuse (a region-deny policy, a region not enabled).
        sts_region = (
            self.identities.sts_region(source.base_profile)
            or session_region(base)
            or PARTITION_HOME_REGIONS.get(partition, "us-east-1")
        )
        meter = self.identities.meter(source.label)

        def create_sts_client(service: str, **keys: Any) -> Any:
            # Called by botocore on every refresh, from whichever worker thread needs the keys,
            # with the base keys of the moment: one client serves every role assumed with them.
            cache_key = (service, sts_region, *sorted(keys.items()))
            with self._lock:
                if cache_key not in self._sts_clients:
                    client = self._new_client(base, service, sts_region, **keys)
                    # Shared by every role: each AssumeRole is counted for its role's account.
                    self.identities.attach_assume_role(client)
                    self._sts_clients[cache_key] = client
                return self._sts_clients[cache_key]

        fetcher = AssumeRoleCredentialFetcher(
            create_sts_client,
            base_credentials,
            role_arn,
            extra_args=_assume_role_args(source),
            cache=_NoCache(),
        )
        retry = ThrottleRetry(on_retry=meter.add_retry, sleep=self.stop.sleep)
        return assumed_role_credentials(
            lambda: retry.call(fetcher.fetch_credentials), self._clock, source.duration_seconds
        )

    def _share_loader(self, session: Session) -> Session:
        # botocore makes every timestamp a tzlocal() datetime, which is slow, and a
        # DescribeTrainingJob answer has about 15; UTC ones are cheap and what records want.
        if self._parsers is None:
            self._parsers = ResponseParserFactory()
            self._parsers.set_parser_defaults(timestamp_parser=parse_utc_timestamp)
        session.register_component("response_parser_factory", self._parsers)
        loader = shared_loader(lambda: session.get_component("data_loader"))
        session.register_component("data_loader", loader)
        return session


def aws_region_variable() -> str | None:
    """AWS_REGION, which boto3 ignores (it reads only AWS_DEFAULT_REGION) but the AWS CLI v2, the
    other SDKs, Lambda, ECS and most CI systems set. As there, it wins over AWS_DEFAULT_REGION and
    the profile's region."""
    return os.environ.get("AWS_REGION") or None


def region_origin(profile: str | None) -> str:
    """Where a session's default region comes from, for messages about it."""
    if aws_region_variable():
        return "AWS_REGION"
    if os.environ.get("AWS_DEFAULT_REGION"):
        return "AWS_DEFAULT_REGION"
    profile = profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    return f"the region of profile {profile!r}" if profile else "the AWS config file"


def _remember_keys_of(session: Session) -> None:
    """Hand the session's keys to the scrubber, so that no message smi writes can show them.
    Keys that cannot be loaded yet fail the first call made with them; role keys are remembered
    as they are fetched."""
    try:
        credentials = session.get_credentials()
    except Exception:
        return
    remember_credentials(credentials)


def parse_utc_timestamp(value: Any) -> datetime:
    """A response timestamp as an aware UTC datetime (epoch seconds, or any form botocore reads)."""
    from botocore.utils import parse_timestamp

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return as_utc(value)
        except (OverflowError, OSError, ValueError):
            pass  # let botocore say what it makes of it
    return as_utc(parse_timestamp(value))


def _assume_role_args(source: AccountSource) -> dict[str, Any]:
    pairs = {
        "RoleSessionName": source.session_name,
        "ExternalId": source.external_id,
        "DurationSeconds": source.duration_seconds,
    }
    return {key: value for key, value in pairs.items() if value is not None}


class _NoCache(dict[str, Any]):
    """A fetcher cache that keeps nothing: the credentials object already holds the current keys,
    and a cache (checked against the wall clock, not `clock`) would answer a refresh with the very
    keys being refreshed."""

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: Any) -> None:
        pass


class _Fixed(CredentialProvider):
    """Hands a session the one credentials object it must use."""

    METHOD = CANONICAL_NAME = "smi-assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def utc_now() -> datetime:
    """The time assumed-role keys check their expiry by, before every signature. botocore's
    default clock asks tzlocal() for the local zone on each read, most of the check's cost; the
    instant is the same in UTC."""
    return datetime.now(timezone.utc)


def assumed_role_credentials(
    fetch: Callable[[], dict[str, Any]], clock: Clock | None, duration_seconds: int | None
) -> RefreshableCredentials:
    """Assumed-role keys that `fetch` gets on first use and that botocore renews before they
    expire. Their expiry starts in the past, so the first use fetches them (as botocore's
    DeferredRefreshableCredentials would, which takes no refresh windows); a short
    `duration_seconds` gets refresh windows that fit its life. Every set of keys fetched is
    handed to the scrubber."""

    def refresh() -> dict[str, Any]:
        data = fetch()
        for name in ("access_key", "secret_key", "token"):
            remember_secret(data.get(name))
        return data

    advisory = mandatory = None  # botocore's windows
    if duration_seconds is not None:
        advisory = min(ADVISORY_REFRESH_SECONDS, duration_seconds // 4)
        mandatory = min(MANDATORY_REFRESH_SECONDS, duration_seconds // 6)
    unset: Any = None  # no keys until the first use fetches them
    return RefreshableCredentials(
        unset,
        unset,
        unset,
        _NOT_FETCHED,
        refresh,
        "assume-role",
        time_fetcher=clock or utc_now,
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
    )
