"""The gateway's customer channels for the evaluation scripts: widget (anonymous session with the
channel's insurer) and IVR (a call; the insurer is not known to the line, as on the hotline).

The gateway renders sources as citations ("《title》·section（第 a-b 行）"); they are read back into
{manual_id, line_start, line_end} through the store's manual titles so the judge can check them.
"""
from __future__ import annotations

import os
import re

import httpx

_CITE = re.compile(r"《(?P<title>[^》]+)》.*?第\s*(?P<a>\d+)(?:\s*[-–]\s*(?P<b>\d+))?\s*行")


def _titles() -> dict[str, str]:
    from assist.services import services

    return {m.title: mid for mid, m in services().kb._manuals.items()}


class GatewayChannel:
    def __init__(self, channel: str, url: str, http: httpx.Client):
        if channel not in ("widget", "ivr"):
            raise SystemExit(f"channel {channel!r}: the evaluation speaks rest, direct, widget or ivr")
        self.channel, self.url, self.http = channel, url, http
        self._by_title: dict[str, str] | None = None

    def say(self, sender: str, text: str, insurer: str | None = None) -> tuple[str, list[dict] | None]:
        if self.channel == "ivr":
            headers = {"Authorization": f"Bearer {os.environ['IVR_TOKEN']}"} if os.environ.get("IVR_TOKEN") else {}
            r = self.http.post(f"{self.url}/ivr/turn", json={"call_id": sender[:64], "text": text}, headers=headers)
            r.raise_for_status()
            return r.json().get("speak") or "", None  # spoken answers carry no citations: not judged on them
        r = self.http.post(f"{self.url}/widget/api/message",
                           json={"text": text, "session": sender[-32:], "insurer": insurer})
        r.raise_for_status()
        msgs = r.json().get("messages") or []
        return "\n".join(m.get("text") or "" for m in msgs), [
            s for m in msgs for c in (m.get("sources") or []) if (s := self.source(c))]

    def source(self, cite: str) -> dict | None:
        m = _CITE.search(cite or "")
        if not m:
            return None
        if self._by_title is None:
            self._by_title = _titles()
        manual = self._by_title.get(m["title"])
        a = int(m["a"])
        return {"manual_id": manual, "line_start": a, "line_end": int(m["b"] or a)} if manual else None
