"""bot/rasa_speedups.py inside a real Rasa 3.6 process, against the real action server (rasa-sdk).

The domain goes to the action server once, not with every call: the first call carries only the digest, the
action server (which has no domain yet) answers 449, Rasa repeats the call with the domain, and later calls
carry the digest alone. Calls share kept-alive connections, survive a connection the server closed, and
carry text with a lone surrogate. Responses are validated as strictly as Rasa's own jsonschema check.
Test scripts in .venv-rasa call RemoteAction.run through a recording proxy.
"""
from __future__ import annotations

import json

import pytest

from tests import servers as S
from tests.test_nlu_pipeline import RPY, rasa_py

pytestmark = pytest.mark.skipif(not RPY.exists(), reason="no .venv-rasa")


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    from core.db import make_engine
    from knowledge.ingest import build
    from migrations import upgrade_head

    url = f"sqlite:///{tmp_path_factory.mktemp('speedups') / 'app.db'}"
    engine = make_engine(url)
    build(engine)
    upgrade_head(engine)
    engine.dispose()
    port = S.free_port()
    proc = S.start_actions(S.base_env(url), port, "test_speedups_actions")
    proxy = S.DelayProxy(port)
    yield proxy
    proxy.close()
    S.stop(proc)


def _body(raw: bytes) -> dict:
    return json.loads(raw.partition(b"\r\n\r\n")[2] or b"{}")


def test_domain_is_sent_once_per_action_server(action_server):
    connections = action_server.connections
    out = rasa_py(f"""
        import asyncio, json
        from rasa.core.actions.action import RemoteAction
        from rasa.core.channels.channel import CollectingOutputChannel
        from rasa.core.nlg import TemplatedNaturalLanguageGenerator
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.utils.endpoints import EndpointConfig
        import bot.rasa_speedups  # applied on import once Rasa is loaded, as the NLU component does in `rasa run`

        assert bot.rasa_speedups.apply()
        domain = Domain.load("bot/domain.yml")
        tracker = DialogueStateTracker.from_events("speedups", [UserUttered("你好", {{"name": "greet"}},
                                                   metadata={{"insurer": "平安健康"}})], domain.slots)
        action = RemoteAction("action_greet", EndpointConfig("http://127.0.0.1:{action_server.port}/webhook"))

        async def main():
            out = []
            for _ in range(3):
                events = await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({{}}),
                                          tracker, domain)
                out.append([e.as_dict().get("text") for e in events if e.type_name == "bot"])
            return out

        print(json.dumps({{"replies": asyncio.run(main()), "digest": bot.rasa_speedups.domain_digest(domain)}}))
    """)
    assert all(r and "平安健康" in r[0] for r in out["replies"]), out  # three real answers
    bodies = [_body(bytes(r)) for r in action_server.requests]
    assert [("domain" in b, b.get("domain_digest")) for b in bodies] == [
        (False, out["digest"]), (True, out["digest"]), (False, out["digest"]), (False, out["digest"])]
    assert bodies[1]["domain"]["forms"]["ticket_form"]  # the whole domain, once
    assert action_server.connections - connections == 1  # four requests, one kept-alive connection


CALLS = """
    import asyncio, json, sys
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    import bot.rasa_speedups

    assert bot.rasa_speedups.apply()
    domain = Domain.load("bot/domain.yml")

    def tracker(text):
        return DialogueStateTracker.from_events("speedups", [UserUttered(text, {{"name": "greet"}},
                                                metadata={{"insurer": "平安健康"}})], domain.slots)

    async def call(text):
        action = RemoteAction("action_greet", EndpointConfig("http://127.0.0.1:{port}/webhook"))
        events = await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({{}}), tracker(text),
                                  domain)
        return [e.as_dict().get("text") for e in events if e.type_name == "bot"]
"""


def test_a_kept_alive_connection_the_server_closed_is_replaced(action_server):
    connections = action_server.connections
    action_server.stale = True  # every reused connection is closed when the next call arrives on it
    try:
        out = rasa_py(CALLS.format(port=action_server.port) + """
    async def main():
        return [await call("你好") for _ in range(3)]

    print(json.dumps({"replies": asyncio.run(main())}))
    """)
    finally:
        action_server.stale = False
    assert len(out["replies"]) == 3 and all(r and "平安健康" in r[0] for r in out["replies"]), out
    assert action_server.connections - connections == 3  # each retry on a new connection


def test_text_with_a_lone_surrogate_is_sent(action_server):
    out = rasa_py(CALLS.format(port=action_server.port) + """
    print(json.dumps({"replies": asyncio.run(call("你好\\ud800"))}))
    """)
    assert out["replies"] and "平安健康" in out["replies"][0]
    body = _body(bytes(action_server.requests[-1]))
    assert body["tracker"]["latest_message"]["text"] == "你好\ud800"


def test_response_validation_accepts_and_rejects_as_rasa_does():
    """Every event type, valid and broken, and broken responses: the fast check and Rasa's full jsonschema
    check agree, and a rejected response raises Rasa's error."""
    out = rasa_py("""
        import json, copy
        from jsonschema import validate, ValidationError
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core import events as E
        import bot.rasa_speedups as S

        good = [E.UserUttered("你好", {"name": "greet", "confidence": 0.9}, [{"entity": "city", "value": "上海",
                                "start": 0, "end": 2}]), E.BotUttered("您好", {"buttons": []}),
                E.SlotSet("city", "上海"), E.SlotSet("n", 3), E.ActiveLoop("ticket_form"), E.ActiveLoop(None),
                E.ActionExecuted("action_listen"), E.FollowupAction("action_greet"), E.Restarted(),
                E.SessionStarted(), E.AllSlotsReset(), E.ReminderScheduled("x", __import__("datetime").datetime.now()),
                E.ReminderCancelled("x"), E.UserUtteranceReverted(), E.ActionReverted(), E.StoryExported(),
                E.ConversationPaused(), E.ConversationResumed(), E.AgentUttered("x"), E.LoopInterrupted(True),
                E.ActionExecutionRejected("a"), E.EntitiesAdded([{"entity": "city", "value": "北京"}]),
                E.DefinePrevUserUtteredFeaturization(False)]
        events = [e.as_dict() for e in good] + [{"event": "form", "name": "ticket_form"},  # Rasa 2 names
                                                {"event": "form_validation", "validate": True}]
        bad_events = [{}, {"event": "nope"}, {"event": 3}, {"event": "slot"}, {"event": "slot", "name": 1, "value": 2},
                      {"event": "entities"}, {"event": "user", "parse_data": []}, {"event": "bot", "timestamp": "x"},
                      {"event": "action", "name": 5}, {"event": "user", "parse_data": {"entities": [{"entity": "x"}]}},
                      {"event": "action", "metadata": []}, "slot", None, []]
        responses = [{"events": events, "responses": [{"text": "x"}]}, {"events": [], "responses": []}, {},
                     {"events": events[:3]}]
        responses += [{"events": events[:2] + [b], "responses": []} for b in bad_events]
        responses += [{"events": {}}, {"events": [], "responses": ["x"]}, {"responses": [1]}, [], "x", None]
        schema = RemoteAction.action_response_format_spec()
        action = RemoteAction("a", None)
        rows = []
        for r in responses:
            try:
                validate(r, schema)
                full = None
            except ValidationError as e:
                full = e.message
            try:
                S._validate_action_result(action, copy.deepcopy(r))
                ours = None
            except ValidationError as e:
                ours = e.message.split(". Failed to validate")[0]
            rows.append([full, ours, S._fast_valid(S._validators(action), r)])
        print(json.dumps({"rows": rows, "types": sorted({e["event"] for e in events})}))
    """)
    assert len(out["types"]) == 23  # every branch of Rasa's events schema
    rows = out["rows"]
    assert sum(full is None for full, _, _ in rows) == 4 and sum(full is not None for full, _, _ in rows) >= 18
    for full, ours, fast in rows:
        assert ours == full and fast == (full is None)
