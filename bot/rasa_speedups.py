"""Speed-ups for the Rasa 3.6 server process, applied when Rasa imports our custom NLU component.

1. Response validation. Rasa checks every action-server response with `jsonschema.validate(result, schema)`,
   which first validates Rasa's own large, constant events schema against the JSON Schema meta-schema and
   builds a new validator: on a turn with three remote actions that was about 40 % of the Rasa server's CPU
   (bench/chat_load.py, docs/performance.md). Here the schema is checked once and the validator is kept;
   every response is still validated against the same schema with the same error.

2. The domain once per action server, not with every call. Rasa 3.6 sends the whole domain (~10 KB of JSON)
   with every custom action call. rasa-sdk >= 3.8 understands `domain_digest`: it keeps the last domain it
   received with its digest, and answers 449 when a call carries a digest it does not know and no domain.
   Here each call carries the domain's fingerprint and no domain; on a 449 (new action server process, new
   model) the call is repeated once with the domain. The 449 comes before the action runs, so the retry
   cannot do anything twice.

No effect outside a Rasa process (rasa not imported yet: the app's own venv, training scripts).
"""
from __future__ import annotations

import contextvars
import sys

_VALIDATOR: list = []
_DIGEST: list = []  # [(domain object, its fingerprint)]: one model is served at a time
_ORIGINAL: dict = {}
_SEND_DOMAIN = contextvars.ContextVar("send_domain", default=False)
DOMAIN_UNKNOWN = 449  # rasa-sdk: "domain digest not known, send the domain"


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


def domain_digest(domain) -> str:
    if not _DIGEST or _DIGEST[0][0] is not domain:
        _DIGEST[:] = [(domain, domain.fingerprint())]
    return _DIGEST[0][1]


def _action_call_format(self, tracker, domain) -> dict:
    result = _ORIGINAL["format"](self, tracker, domain)
    result["domain_digest"] = domain_digest(domain)
    if _SEND_DOMAIN.get():
        result["domain"] = domain.as_dict()
    else:
        result.pop("domain", None)
    return result


async def _run(self, output_channel, nlg, tracker, domain):
    from rasa.shared.exceptions import RasaException

    if not _SEND_DOMAIN.get():
        try:
            return await _ORIGINAL["run"](self, output_channel, nlg, tracker, domain)
        except RasaException as e:
            if getattr(e.__cause__, "status", None) != DOMAIN_UNKNOWN:
                raise
    token = _SEND_DOMAIN.set(True)
    try:
        return await _ORIGINAL["run"](self, output_channel, nlg, tracker, domain)
    finally:
        _SEND_DOMAIN.reset(token)


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
    if "run" not in _ORIGINAL:
        _ORIGINAL["run"], _ORIGINAL["format"] = RemoteAction.run, RemoteAction._action_call_format
        RemoteAction.run, RemoteAction._action_call_format = _run, _action_call_format
    return True
