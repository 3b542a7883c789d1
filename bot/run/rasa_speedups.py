"""Per-message costs of Rasa 3.6 that buy nothing, removed when a Rasa process starts.

Found with py-spy on a Rasa process under load (``bench/load.py``):

- Every action-server response is checked with ``jsonschema.validate(response, schema)``, which
  first validates the (constant) schema against its meta-schema and builds a new validator, on
  every turn: 22 % of the process's time, more than embedding and ranking the message. Here the
  schema is checked once and its validator kept; responses are validated exactly as before.
- Every stored event read back is matched to its class by walking all subclasses of ``Event``
  (``Event.resolve_by_type``): 8 %. Here a found class is remembered per type name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Text

_EVENT_CLASSES: Dict[str, Any] = {}


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def _resolving_remembered(resolve: Any) -> Any:
    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        found = _EVENT_CLASSES.get(type_name)
        if found is None:
            found = resolve(type_name, default)
            if found is not None and found is not default:
                _EVENT_CLASSES[type_name] = found
        return found

    resolve_by_type.remembers = True  # type: ignore[attr-defined]
    return resolve_by_type


def install() -> None:
    """Patch Rasa's action-response check and event-class lookup (idempotent)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    if not getattr(Event.resolve_by_type, "remembers", False):
        Event.resolve_by_type = staticmethod(_resolving_remembered(Event.resolve_by_type))  # type: ignore[method-assign]
