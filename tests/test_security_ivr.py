"""Attack 2 for the hotline: /ivr/turn takes any call_id, so whoever knows or guesses an active call's id
could continue that caller's verified conversation (sender ivr:<call_id>). With IVR_TOKEN set (required in
production) only the telephony platform holding the token gets through."""
from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from channels import config
from channels.testing import FakeRasa, gateway


def test_ivr_turn_needs_the_platform_token():
    seen = []

    def script(sender, message, metadata):
        seen.append(sender)
        return [{"text": "您好，请问有什么可以帮您？"}]

    with FakeRasa(script) as rasa:
        settings = replace(config.load(), rasa_url=rasa.url, ivr_token="p" * 32, hotline=None)
        with TestClient(gateway(settings)) as client:
            body = {"call_id": "call-42", "text": "查一下我的工单"}
            assert client.post("/ivr/turn", json=body).status_code == 401
            assert client.post("/ivr/turn", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert seen == []
            ok = client.post("/ivr/turn", json=body, headers={"Authorization": "Bearer " + "p" * 32})
            assert ok.status_code == 200 and seen == ["ivr:call-42"]
