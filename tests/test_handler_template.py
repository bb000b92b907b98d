"""HandlerTemplate: sessions that copy botocore's built-in handlers instead of registering them."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore import handlers

from sagemaker_inventory.aws.handler_template import HandlerTemplate


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


SERVICES = ("sagemaker", "resourcegroupstaggingapi", "sts")


def event_names(service: str) -> list[str]:
    """Every event a client of `service` can emit that a built-in handler listens to, for each
    of the service's operations."""
    model = botocore.session.get_session().get_service_model(service)
    service_id = model.service_id.hyphenize()
    kinds = {spec[0].split(".")[0] for spec in handlers.BUILTIN_HANDLERS}
    names = [f"{kind}.{service_id}" for kind in kinds]
    names += [f"{kind}.{service_id}.{op}" for kind in kinds for op in model.operation_names]
    return names


def test_a_template_for_some_services_keeps_every_handler_their_clients_meet() -> None:
    full = HandlerTemplate().new_session()
    slim = HandlerTemplate(SERVICES).new_session()
    for service in SERVICES:
        for name in event_names(service):
            assert handlers_for(slim, name) == handlers_for(full, name), name


def test_a_template_for_some_services_drops_other_services_handlers() -> None:
    full = HandlerTemplate().new_session()
    slim = HandlerTemplate(SERVICES).new_session()
    name = "before-parameter-build.s3.PutObject"
    assert len(handlers_for(slim, name)) < len(handlers_for(full, name))
    assert HandlerTemplate(SERVICES).serves("sts")
    assert not HandlerTemplate(SERVICES).serves("s3") and HandlerTemplate().serves("s3")
