"""Speed-ups for the Rasa 3.6 server process, applied when Rasa imports our custom NLU component.

1. Response validation. Rasa checks every action-server response with `jsonschema.validate(result, schema)`,
   which first validates Rasa's own large, constant events schema against the JSON Schema meta-schema and
   builds a new validator: on a turn with three remote actions that was about 40 % of the Rasa server's CPU
   (bench/chat_load.py, docs/performance.md). Here the schema is checked once and the validators are kept.
   The events schema is a `oneOf` over 23 branches told apart by `event`'s `const`, so an event can only
   match the branch of its own name: each event is checked against the common part and that one branch.
   Any failure reruns the full schema, so what is accepted and the error raised are the same as Rasa's.

2. The domain once per action server, not with every call. Rasa 3.6 sends the whole domain (~10 KB of JSON)
   with every custom action call. rasa-sdk >= 3.8 understands `domain_digest`: it keeps the last domain it
   received with its digest, and answers 449 when a call carries a digest it does not know and no domain.
   Here each call carries the domain's fingerprint and no domain; on a 449 (new action server process, new
   model) the call is repeated once with the domain. The 449 comes before the action runs, so the retry
   cannot do anything twice.

3. Action calls on kept-alive connections. Rasa 3.6 opens a new aiohttp session and TCP connection for every
   action call and encodes the tracker with the standard json module. Here one session per event loop keeps
   its connections alive (closed after KEEPALIVE_S idle, well before rasa-sdk's 120 s) and encodes with
   ujson (a Rasa dependency; 0.23 instead of 0.64 ms for a 9-turn tracker), falling back to json where
   ujson refuses (huge integers).
   A call that finds its reused connection closed by the server (it timed out while idle, or the server
   restarted) is sent once more on a new connection; a call on a new connection is never repeated, so a
   server that dies during an action fails the turn as before. Endpoints with basic auth or a CA file take
   Rasa's own path.

4. The next question from the form's validation action. A form turn with a question from the action server
   (action_ask_<slot>) costs two calls: the validation action, then the question. Our validation actions ask
   the next slot themselves (actions/base.py ask_next_slot) and mark the message with the slot
   (metadata "asks"); Rasa's request for that slot is skipped when the same run of the form already sent a
   message asking for it. Where no such message came (the form starting with nothing to validate, a form
   resumed after a side question, a validation action without the mark) Rasa asks as before. This also
   drops Rasa's second question after a validation action has already asked again for a rejected value.

No effect outside a Rasa process (rasa not imported yet: the app's own venv, training scripts).
"""
from __future__ import annotations

import contextvars
import sys
import weakref

_VALIDATOR: list = []
_DIGEST: list = []  # [(domain object, its fingerprint)]: one model is served at a time
_ORIGINAL: dict = {}
_SESSIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # event loop -> aiohttp.ClientSession
KEEPALIVE_S = 30.0
_SEND_DOMAIN = contextvars.ContextVar("send_domain", default=False)
DOMAIN_UNKNOWN = 449  # rasa-sdk: "domain digest not known, send the domain"


def _validators(self) -> dict:
    """{"full": validator of Rasa's schema, "top": the response without the events' oneOf,
    "base": an event's common part, "by_name": {event name: validator of its branch}} (built once)."""
    if not _VALIDATOR:
        import copy

        from jsonschema import validators

        schema = self.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        out = {"full": cls(schema)}
        items = schema.get("properties", {}).get("events", {}).get("items", {})
        branches = items.get("oneOf") or []
        names = [b.get("properties", {}).get("event", {}).get("const") for b in branches]
        if branches and None not in names and len(set(names)) == len(names):
            top = copy.deepcopy(schema)
            top["properties"]["events"]["items"] = {}
            base = {k: v for k, v in items.items() if k != "oneOf"}
            out.update(top=cls(top), base=cls(base), by_name={n: cls(b) for n, b in zip(names, branches)})
        _VALIDATOR.append(out)
    return _VALIDATOR[0]


def _fast_valid(v: dict, result) -> bool:
    if "by_name" not in v or not v["top"].is_valid(result):
        return False
    events = result.get("events") if isinstance(result, dict) else None
    for event in events if isinstance(events, list) else ():
        branch = v["by_name"].get(event.get("event")) if isinstance(event, dict) else None
        if branch is None or not v["base"].is_valid(event) or not branch.is_valid(event):
            return False
    return True


def _validate_action_result(self, result) -> bool:
    v = _validators(self)
    if _fast_valid(v, result):
        return True
    from jsonschema import exceptions

    error = exceptions.best_match(v["full"].iter_errors(result))
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


def _dumps(obj) -> str:
    import json

    import ujson

    try:
        return ujson.dumps(obj, escape_forward_slashes=False)  # ASCII, like json: lone surrogates as \ud800
    except (TypeError, ValueError, OverflowError):  # huge ints, unknown types
        return json.dumps(obj)


def _session():
    import asyncio

    import aiohttp

    loop = asyncio.get_running_loop()
    session = _SESSIONS.get(loop)
    if session is None or session.closed:
        from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

        trace = aiohttp.TraceConfig()
        trace.on_connection_reuseconn.append(_note_reused)
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
                                        json_serialize=_dumps, trace_configs=[trace],
                                        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT))
        _SESSIONS[loop] = session
    return session


async def _note_reused(session, ctx, params) -> None:
    if isinstance(ctx.trace_request_ctx, dict):
        ctx.trace_request_ctx["reused"] = True


class KeptAliveEndpoint:
    """An action endpoint (rasa.utils.endpoints.EndpointConfig) whose POSTs share one kept-alive session."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def __getattr__(self, name):
        return getattr(self.endpoint, name)

    async def request(self, method="post", subpath=None, content_type="application/json", compress=False,
                      **kwargs):
        ep = self.endpoint
        if method.lower() != "post" or subpath or ep.basic_auth or ep.cafile or set(kwargs) - {"json", "timeout"}:
            return await ep.request(method, subpath, content_type, compress, **kwargs)
        import aiohttp
        from rasa.utils.endpoints import ClientResponseError

        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(ep.headers or {})
        timeout = kwargs.get("timeout")
        timeout = timeout if timeout is None or isinstance(timeout, aiohttp.ClientTimeout) else \
            aiohttp.ClientTimeout(total=timeout)
        while True:
            call = {"reused": False}
            try:
                async with _session().post(ep.url, headers=headers, params=ep.combine_parameters(),
                                           json=kwargs.get("json"), compress=compress, trace_request_ctx=call,
                                           **({"timeout": timeout} if timeout else {})) as response:
                    if response.status >= 400:
                        raise ClientResponseError(response.status, response.reason, await response.content.read())
                    try:
                        return await response.json()
                    except aiohttp.ContentTypeError:
                        return None
            except aiohttp.ServerDisconnectedError:
                if not call["reused"]:
                    raise


async def _run(self, output_channel, nlg, tracker, domain):
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import EndpointConfig

    if type(self.action_endpoint) is EndpointConfig:
        self.action_endpoint = KeptAliveEndpoint(self.action_endpoint)
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


def asked_in_this_run(tracker, slot: str, form_name: str) -> bool:
    """True when the form's run so far (events after the ActionExecuted(form) that FormAction's temporary
    tracker inserts) holds a bot message marked as asking for `slot`."""
    for event in reversed(tracker.events):
        if getattr(event, "type_name", "") == "action" and event.action_name == form_name:
            return False
        if getattr(event, "type_name", "") == "bot" and (event.metadata or {}).get("asks") == slot:
            return True
    return False


async def _ask_for_slot(self, domain, nlg, output_channel, slot_name, tracker):
    if asked_in_this_run(tracker, slot_name, self.name()):
        return []
    return await _ORIGINAL["ask"](self, domain, nlg, output_channel, slot_name, tracker)


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
        from rasa.core.actions.forms import FormAction

        _ORIGINAL["run"], _ORIGINAL["format"] = RemoteAction.run, RemoteAction._action_call_format
        RemoteAction.run, RemoteAction._action_call_format = _run, _action_call_format
        _ORIGINAL["ask"], FormAction._ask_for_slot = FormAction._ask_for_slot, _ask_for_slot
    return True
