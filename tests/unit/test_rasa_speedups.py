"""Rasa's action-response check, compiled once: the same verdicts as Rasa's own."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.run import rasa_speedups

VALID = {"events": [{"event": "slot", "name": "lang", "value": "de"}], "responses": [{"text": "Hallo"}]}
INVALID = [{"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"responses": [{"text": 5}]}]


def test_compiled_check_accepts_and_rejects_what_rasa_does(monkeypatch: pytest.MonkeyPatch) -> None:
    action = RemoteAction("action_answer_faq", None)
    original = RemoteAction._validate_action_result
    for response in [VALID, *INVALID]:
        try:
            expected = original(action, response)
        except jsonschema.ValidationError:
            expected = False
        monkeypatch.setattr(RemoteAction, "_validate_action_result", original)
        rasa_speedups.install()
        try:
            actual = action._validate_action_result(response)
        except jsonschema.ValidationError as err:
            assert "Failed to validate Action server response" in err.message
            actual = False
        assert actual == expected, response
    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
    assert rasa_speedups._action_response_validator() is rasa_speedups._action_response_validator()  # built once


def test_event_classes_are_found_as_before_and_remembered() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    rasa_speedups.install()
    rasa_speedups.install()  # idempotent: not wrapped twice
    assert getattr(Event.resolve_by_type, "remembers", False)
    assert Event.resolve_by_type("user") is UserUttered and Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("action") is ActionExecuted
    assert rasa_speedups._EVENT_CLASSES["user"] is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    assert "no-such-event" not in rasa_speedups._EVENT_CLASSES
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no-such-event")
    events = Event.from_parameters({"event": "slot", "name": "lang", "value": "de"})
    assert isinstance(events, SlotSet) and events.value == "de"
