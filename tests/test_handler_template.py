"""HandlerTemplate: sessions that copy botocore's built-in handlers instead of registering them."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore import handlers

from sagemaker_inventory.handler_template import HandlerTemplate


def handlers_for(session: Any, event_name: str) -> list[Any]:
    # botocore has no public listing of handlers; its emitter's trie answers prefix searches.
    events = session.get_component("event_emitter")
    aliased = events._alias_event_name(event_name)
    return list(events._emitter._handlers.prefix_search(aliased))


def test_a_templated_session_has_exactly_botocores_built_in_handlers_in_order() -> None:
    fresh = botocore.session.Session()
    copied = HandlerTemplate().new_session()
    names = {spec[0] for spec in handlers.BUILTIN_HANDLERS}
    assert names
    for name in names:
        assert handlers_for(copied, name) == handlers_for(fresh, name), name


def test_handlers_registered_on_one_session_stay_its_own() -> None:
    template = HandlerTemplate()
    first, second = template.new_session(), template.new_session()

    def mine(**_: Any) -> None:
        pass

    first.register("before-call.sagemaker.ListTrainingJobs", mine)
    assert mine in handlers_for(first, "before-call.sagemaker.ListTrainingJobs")
    assert mine not in handlers_for(second, "before-call.sagemaker.ListTrainingJobs")
    assert mine not in handlers_for(
        template.new_session(), "before-call.sagemaker.ListTrainingJobs"
    )


def test_a_templated_session_keeps_its_profile() -> None:
    assert HandlerTemplate().new_session("audit").profile == "audit"
