"""Speed-ups for the Rasa 3.6 server process, applied when Rasa imports our custom NLU component.

Rasa checks every action-server response with `jsonschema.validate(result, schema)`, which first validates
Rasa's own large, constant events schema against the JSON Schema meta-schema and builds a new validator: on a
turn with three remote actions (slot mapping, form validation, the answer) that was about 40 % of the Rasa
server's CPU (bench/chat_load.py, docs/performance.md). Here the schema is checked once and the validator is
kept; every response is still validated against the same schema with the same error.

No effect outside a Rasa process (rasa not imported yet: the app's own venv, training scripts).
"""
from __future__ import annotations

import sys

_VALIDATOR: list = []


def _validate_action_result(self, result) -> bool:
    from jsonschema import exceptions, validators

    if not _VALIDATOR:
        schema = self.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        _VALIDATOR.append(cls(schema))
    error = exceptions.best_match(_VALIDATOR[0].iter_errors(result))
    if error is not None:
        from rasa.shared.constants import DOCS_BASE_URL

        error.message += (". Failed to validate Action server response from API, make sure your response from the "
                          f"Action endpoint is valid. For more information about the format visit "
                          f"{DOCS_BASE_URL}/custom-actions")
        raise error
    return True


def apply() -> bool:
    """Patch the running Rasa server; True when applied."""
    if "rasa.core" not in sys.modules:
        return False
    try:
        from rasa.core.actions.action import RemoteAction
    except ImportError:
        return False
    if getattr(RemoteAction._validate_action_result, "__module__", "") != __name__:
        RemoteAction._validate_action_result = _validate_action_result
    return True
