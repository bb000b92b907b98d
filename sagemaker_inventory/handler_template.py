"""botocore sessions for assumed roles without registering botocore's built-in handlers each time.

A botocore Session registers its ~125 built-in event handlers when it is made, and botocore
inspects each handler's signature as it is registered: with a session per account, that was the
largest single cost of an organization run's scopes. The handlers are module functions that hold
nothing of the session, so `HandlerTemplate` registers them once, into an emitter that is then
only ever copied (botocore's own `event_hooks` and `include_builtin_handlers` arguments): every
session starts with the same handlers, in the same order, and handlers registered later on one
session stay its own.
"""

from __future__ import annotations

import copy
from typing import Any


class HandlerTemplate:
    """botocore's built-in handlers, registered once; `new_session` copies them into a session."""

    def __init__(self) -> None:
        import botocore.session
        from botocore.hooks import HierarchicalEmitter

        self._emitter = HierarchicalEmitter()
        # The session registers the built-in handlers (aliased event names and all) into it.
        botocore.session.Session(event_hooks=self._emitter)

    def new_session(self, profile: str | None = None) -> Any:
        """A new botocore Session of `profile` whose events start as botocore's built-in ones."""
        import botocore.session

        return botocore.session.Session(
            profile=profile,
            event_hooks=copy.copy(self._emitter),
            include_builtin_handlers=False,
        )
