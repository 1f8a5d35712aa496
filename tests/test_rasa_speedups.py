"""bot/rasa_speedups.py inside a real Rasa 3.6 process, against the real action server (rasa-sdk).

The domain goes to the action server once, not with every call: the first call carries only the digest, the
action server (which has no domain yet) answers 449, Rasa repeats the call with the domain, and later calls
carry the digest alone. A test script in .venv-rasa calls RemoteAction.run through a recording proxy.
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
