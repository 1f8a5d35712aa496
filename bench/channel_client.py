"""One customer message through a channel -> (reply text, cited sources), for the evaluation scripts.

rest: Rasa's REST channel (POST /webhooks/rest/webhook, the channel's insurer as metadata); the text is
every bot message joined, the sources those of the json_message answers. The gateway channels (widget,
wechat, ivr) are added in channel_client_gateway when the gateway is used. direct: no servers, the
question answered in this process by assist.qa with the rendering the actions use (a quick check of
the answering layer alone; Rasa's intent routing and forms are not in it).
"""
from __future__ import annotations

import httpx


class ChannelClient:
    def __init__(self, channel: str = "rest", url: str = "http://127.0.0.1:5005", timeout: float = 60):
        self.channel, self.url = channel, url.rstrip("/")
        self.http = httpx.Client(timeout=timeout)
        if channel not in ("rest", "direct"):
            from bench.channel_client_gateway import GatewayChannel

            self.gateway = GatewayChannel(channel, self.url, self.http)

    def say(self, sender: str, text: str, insurer: str | None = None) -> tuple[str, list[dict] | None]:
        if self.channel == "direct":
            return _direct(text, insurer)
        if self.channel != "rest":
            return self.gateway.say(sender, text, insurer)
        md = {"insurer": insurer} if insurer else {}
        from core.secrets import rasa_channel_headers

        r = self.http.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text,
                                                                       "metadata": md}, headers=rasa_channel_headers())
        r.raise_for_status()
        out = r.json()
        text_out = "\n".join(m["text"] for m in out if m.get("text"))
        sources = [s for m in out if isinstance(m.get("custom"), dict)
                   for s in ((m["custom"].get("answer") or {}).get("sources") or [])]
        return text_out, sources


def _direct(text: str, insurer: str | None) -> tuple[str, list[dict]]:
    from rasa_sdk.executor import CollectingDispatcher

    from actions.common import Answer, stores
    from assist.qa import Context, answer

    st = stores()
    rep = answer(st.kb, text, Context(channel_insurer=insurer), engine=st.kb.engine, policies=st.policies)
    d = CollectingDispatcher()
    Answer(rep.kind, rep.text, items=rep.items, options=rep.options, sources=rep.sources).send(d)
    msg = d.messages[0]
    return msg.get("text") or "", list(((msg.get("custom") or {}).get("answer") or {}).get("sources") or [])
