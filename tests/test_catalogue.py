"""The rules' vocabulary and the engine stay in step: every name a flow may use is a method that exists."""

from __future__ import annotations

import inspect

import pytest

from absensi.engine.flows.absences import AbsenceContext
from absensi.engine.flows.registration import RegistrationContext
from absensi.engine.rules import catalogue

CONTEXTS = {"absence": AbsenceContext, "registration": RegistrationContext}


@pytest.mark.parametrize("flow", sorted(catalogue.FLOWS))
def test_every_condition_and_action_is_a_method_of_the_flow_context(flow: str) -> None:
    context = CONTEXTS[flow]
    vocabulary = catalogue.FLOWS[flow]
    for name in sorted(vocabulary.conditions | vocabulary.actions):
        method = getattr(context, name, None)
        assert callable(method), f"{flow}: '{name}' is in the catalogue but {context.__name__} has no such method"
        assert list(inspect.signature(method).parameters) == ["self"], f"{flow}: {name} must take no arguments"


def test_the_shipped_flows_handle_every_trigger(rules) -> None:  # type: ignore[no-untyped-def]
    for name, vocabulary in catalogue.FLOWS.items():
        fired = {t.trigger for t in rules.rules.flows[name].transitions}
        assert fired == set(vocabulary.triggers | vocabulary.optional_triggers), name
