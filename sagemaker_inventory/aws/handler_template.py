"""botocore sessions for assumed roles without registering botocore's built-in handlers each time.

A botocore Session registers its ~125 built-in event handlers when it is made, and botocore
inspects each handler's signature as it is registered: with a session per account, that was the
largest single cost of an organization run's scopes. The handlers are module functions that hold
nothing of the session, so `HandlerTemplate` registers them once, into an emitter that is then
only ever copied (botocore's own `event_hooks` and `include_builtin_handlers` arguments): every
session starts with the same handlers, in the same order, and handlers registered later on one
session stay its own.

botocore copies a session's handlers again into every client it builds, so a template made for
some services keeps only the handlers of those services (and those of every service): most
built-in handlers serve S3, EC2 and other services smi never calls from a role session, and
copying them was a tenth of what a role session's client cost. A client of another service must
not be built from such a session (`serves` says which it may).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sagemaker_inventory.aws.service_models import shared_loader


class HandlerTemplate:
    """botocore's built-in handlers, registered once; `new_session` copies them into a session.

    `services` (botocore service names, e.g. "sagemaker") keeps only the handlers of those
    services and of every service; None keeps all of them."""

    def __init__(self, services: Iterable[str] | None = None) -> None:
        from botocore import handlers
        from botocore.hooks import HierarchicalEmitter

        from sagemaker_inventory.aws.session_maker import botocore_session

        self.services = None if services is None else frozenset(services)
        self._emitter = HierarchicalEmitter()
        if self.services is None:
            # The session registers the built-in handlers (aliased event names and all) into it.
            botocore_session(event_hooks=self._emitter)
            return
        session = botocore_session(event_hooks=self._emitter, builtin_handlers=False)
        events = session.get_component("event_emitter")
        ids = {_event_service_id(name) for name in self.services}
        # As botocore.session.Session._register_builtin_handlers does, for the services kept.
        for spec in handlers.BUILTIN_HANDLERS:
            event_name, handler = spec[0], spec[1]
            if not _serves_any(event_name, ids):
                continue
            if len(spec) == 2:
                events.register(event_name, handler)
            elif spec[2] is handlers.REGISTER_FIRST:
                events.register_first(event_name, handler)
            elif spec[2] is handlers.REGISTER_LAST:
                events.register_last(event_name, handler)

    def serves(self, service: str) -> bool:
        """Whether a client of `service` (a botocore service name) may come from its sessions."""
        return self.services is None or service in self.services

    def new_session(self, profile: str | None = None) -> Any:
        """A new botocore Session of `profile` whose events start as the template's."""
        from sagemaker_inventory.aws.session_maker import botocore_session

        return botocore_session(
            profile, event_hooks=copy.copy(self._emitter), builtin_handlers=False
        )


def _event_service_id(service: str) -> str:
    """The name botocore gives `service` in event names: its service id, hyphenized."""
    from botocore.model import ServiceId

    model = shared_loader().load_service_model(service, "service-2")
    return str(ServiceId(model["metadata"]["serviceId"]).hyphenize())


def _serves_any(event_name: str, service_ids: set[str]) -> bool:
    """Whether a handler of `event_name` can fire for a client of one of `service_ids`: events are
    named "<event>.<service id>.<operation>...", and a "*" or no service part means every one.
    Older service names are aliased as botocore aliases them ("tagging")."""
    from botocore.hooks import EVENT_ALIASES

    parts = event_name.split(".")
    if len(parts) < 2 or parts[1] == "*":
        return True
    service = EVENT_ALIASES.get(".".join(parts[1:3]), EVENT_ALIASES.get(parts[1], parts[1]))
    return service in service_ids
