"""What every action shares: the stores, the channel-neutral Answer, insurer/service/person resolution.

Actions never know their channel. Each answer goes out twice: as text (+ buttons when there
are choices) and as a json_message {"answer": {kind, text, items, options, sources}} that the
channel renderers draw without knowing which action produced it.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.text import plain

log = logging.getLogger(__name__)

MAX_TEXT = 300  # customer text we look at


# -- stores -------------------------------------------------------------------------
# The application layer's services (assist.services): knowledge base, policy source, ticket service.
from assist.services import Services as Stores  # noqa: E402,F401 (tests configure it)
from assist.services import configure, services as stores  # noqa: E402,F401


# -- the answer ---------------------------------------------------------------------
def source_json(src) -> Optional[dict]:
    """A knowledge.views.Source -> plain dict with its citation."""
    if src is None:
        return None
    if src.section is None and not src.insurer:  # from the rules: complete it from the knowledge base
        try:
            src = stores().kb.source(src.manual_id, src.line_start, src.line_end, quote=src.quote or None)
        except Exception:  # pragma: no cover - store unavailable
            pass
    return {"manual_id": src.manual_id, "manual_title": getattr(src, "manual_title", ""),
            "section": getattr(src, "section", None), "line_start": src.line_start, "line_end": src.line_end,
            "quote": getattr(src, "quote", ""), "cite": src.cite()}


@dataclass
class Answer:
    kind: str
    text: str
    items: list = field(default_factory=list)
    options: list = field(default_factory=list)  # [(title, payload)]
    sources: list = field(default_factory=list)  # Source objects or source dicts
    asks: str | None = None  # the form slot this message asks for (Rasa then skips its own question)

    def source_dicts(self) -> list[dict]:
        out, seen = [], set()
        for s in self.sources:
            d = s if isinstance(s, dict) else source_json(s)
            if d and d["cite"] not in seen:
                seen.add(d["cite"])
                out.append(d)
        return out

    def full_text(self) -> str:
        srcs = self.source_dicts()
        if not srcs:
            return self.text
        cites = "；".join(d["cite"] for d in srcs[:3]) + (" 等" if len(srcs) > 3 else "")
        return f"{self.text}\n（来源：{cites}）"

    def payload(self) -> dict:
        return {"answer": {"kind": self.kind, "text": self.text, "items": self.items,
                           "options": [{"title": t, "payload": p} for t, p in self.options],
                           "sources": self.source_dicts()}}

    def send(self, dispatcher: CollectingDispatcher) -> None:
        # one utterance (one tracker event); Rasa's channels still deliver it as the text (with buttons)
        # followed by the custom answer
        buttons = [{"title": t, "payload": p} for t, p in self.options]
        extra = {"asks": self.asks} if self.asks else {}  # lands in the bot event's metadata, not in channels
        dispatcher.utter_message(text=self.full_text(), buttons=buttons, json_message=self.payload(), **extra)


def ask(dispatcher: CollectingDispatcher, kind: str, text: str, options: Iterable[tuple[str, str]] = (),
        asks: str | None = None) -> None:
    """A question (no facts, no sources) in the same two shapes as an answer. It asks for the slot `asks`,
    by default <slot> of a kind "ask_<slot>" (Answer.asks)."""
    asks = asks or (kind[4:] if kind.startswith("ask_") else None)
    Answer(kind, text, options=list(options), asks=asks).send(dispatcher)


def inform_payload(**entities: str) -> str:
    """Button payload that fills slots through the NLU-free /intent{...} syntax."""
    import json

    return "/inform" + json.dumps(entities, ensure_ascii=False) if entities else "/inform"


# -- insurer, service, person --------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else None
    return plain(value).strip()[:MAX_TEXT] if value not in (None, "") else ""


def metadata(tracker: Tracker) -> dict:
    md = (tracker.latest_message or {}).get("metadata") or {}
    if not md:
        for ev in reversed(tracker.events or []):
            if ev.get("event") == "user":
                md = ev.get("metadata") or {}
                break
    return md if isinstance(md, dict) else {}


def channel_insurer(tracker: Tracker) -> str:
    """The insurer the channel belongs to (message metadata {"insurer": ...}), or ''."""
    return _text(metadata(tracker).get("insurer"))


def current_insurer(tracker: Tracker):
    """InsurerView from the channel, else from the conversation; None when unknown."""
    kb = stores().kb
    for text in (channel_insurer(tracker), latest_entity(tracker, "insurer"), _text(tracker.get_slot("insurer"))):
        if text:
            ins = kb.resolve_insurer(text)
            if ins is not None:
                return ins
    return None


def named_insurer(text: str):
    """The insurer the message names by any of its names or a product's (众安的保单，… the NLU left untagged)."""
    from assist.names import index_for
    from assist.understand import insurer_in

    if not text or text.startswith("/"):
        return None
    kb = stores().kb
    found = insurer_in(kb, text)
    if found is None:
        products = index_for(kb).products_in(text)
        found = kb.resolve_insurer(products[0].insurer_short) if products else None
    return found


def user_texts(tracker: Tracker, n: int) -> list[str]:
    """The customer's last n messages as stored, latest first."""
    return [ev.get("text") or "" for ev in reversed(tracker.events or []) if ev.get("event") == "user"][:n]


def conversation_product(tracker: Tracker):
    """The product the conversation named (the product slot, else the customer's recent messages,
    latest first): assist.names.ProductMention, or None."""
    from assist.names import index_for

    ix = index_for(stores().kb)
    for text in [_text(tracker.get_slot("product")), *(_text(t) for t in user_texts(tracker, 6))]:
        found = ix.products_in(text) if text else []
        if found:
            return found[0]
    return None


def product_scope(tracker: Tracker, insurer, manual_id: str | None):
    """(insurer, manual id) narrowed to the product the conversation named (尊享e生PLUS: its manual), when no
    manual is known yet and the product is the insurer's."""
    named = conversation_product(tracker) if manual_id is None else None
    if named is not None and (insurer is None or insurer.short_name == named.insurer_short):
        return stores().kb.resolve_insurer(named.insurer_short), named.manual_id
    return insurer, manual_id


def insurer_buttons(names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    kb = stores().kb
    names = list(names) if names is not None else [i.short_name for i in kb.insurers()]
    return [(n, inform_payload(insurer=n)) for n in names]


def resolve_services(text: str, insurer=None, manual_id: str | None = None) -> list:
    """Services the words name, best first; the policy's manual first when known."""
    text = _text(text)
    if not text:
        return []
    hits = stores().kb.resolve_service(text, insurer=insurer.id if insurer else None)
    if manual_id:
        hits = [h for h in hits if h.manual_id == manual_id] + [h for h in hits if h.manual_id != manual_id]
    return hits


def pick_service(text: str, insurer=None, manual_id: str | None = None):
    """(service, other insurers' names) -> the best hit; when the insurer is unknown and the words name
    services of several insurers, service is None and the insurers are returned to ask."""
    hits = resolve_services(text, insurer, manual_id)
    if not hits:
        return None, []
    if insurer is None and not manual_id:
        top = [h for h in hits if _score_close(hits[0], h)]
        names = list(dict.fromkeys(h.insurer_short for h in top))
        if len(names) > 1:
            return None, names
    return hits[0], []


def _score_close(a, b) -> bool:
    """Both hits name the service equally well (same core name or same alias)."""
    from knowledge.matching import norm, service_core as _service_core

    ka = {_service_core(a.name), *(norm(x) for x in a.aliases)}
    kb_ = {_service_core(b.name), *(norm(x) for x in b.aliases)}
    return a.id == b.id or a.category == b.category or bool(ka & kb_)


from assist.people import person_on_policy, relation_code  # noqa: E402,F401 (one relation table)


# -- conversation --------------------------------------------------------------------
def transcript(tracker: Tracker, limit: int = 200) -> list[dict]:
    out = []
    for ev in tracker.events or []:
        if ev.get("event") == "user" and ev.get("text"):
            out.append({"who": "user", "text": ev["text"], "at": ev.get("timestamp")})
        elif ev.get("event") == "bot" and ev.get("text"):
            asks = (ev.get("metadata") or {}).get("asks")  # the answer to a proof question is never stored
            out.append({"who": "bot", "text": ev["text"], "at": ev.get("timestamp"), **({"asks": asks} if asks else {})})
    return out[-limit:]


def hotline(insurer, manual_id: str | None = None) -> tuple[Optional[str], list]:
    """('客服电话 95511-7（7*24 小时）', [sources]) from the insurer's manuals, or (None, [])."""
    if insurer is None:
        return None, []
    contacts = stores().kb.contacts(insurer.id)
    if manual_id:  # the service's own manual first: an insurer can have product-specific hotlines
        contacts = sorted(contacts, key=lambda c: c.source.manual_id != manual_id)
    phones = [c for c in contacts if c.kind == "phone" and c.service_id is None] or \
             [c for c in contacts if c.kind == "phone"]
    if not phones:
        return None, []
    p = phones[0]
    hours = next((c for c in contacts if c.kind == "hours" and c.service_id is None and c.source == p.source), None) \
        or next((c for c in contacts if c.kind == "hours" and c.service_id is None), None)
    text = f"{p.label or '客服电话'} {p.value}" + (f"（{hours.value}）" if hours else "")
    return text, [p.source] + ([hours.source] if hours and hours.source != p.source else [])


def not_in_manual(insurer, what: str, kind: str = "not_in_manual") -> Answer:
    """The manuals do not say: say so, offer the insurer's hotline and a human."""
    line, srcs = hotline(insurer)
    text = f"手册里没有写{what}，我不能随便回答您。"
    text += f"建议您拨打{line}咨询，或者转人工客服帮您确认。" if line else "可以帮您转人工客服确认。"
    return Answer(kind, text, options=[("转人工", "/human_handoff")], sources=srcs)


def clip(text: str | None, n: int = 160) -> str:
    s = re.sub(r"\s+", " ", text or "").strip()
    return s if len(s) <= n else s[: n - 1] + "…"


def slot_text(tracker: Tracker, name: str) -> str:
    return _text(tracker.get_slot(name))


def latest_entity(tracker: Tracker, name: str) -> str:
    for e in (tracker.latest_message or {}).get("entities") or []:
        if e.get("entity") == name and e.get("value"):
            return _text(e["value"])
    return ""


def context_value(tracker: Tracker, name: str) -> str:
    """What the customer just said (entity of the latest message), else what the conversation knows."""
    return latest_entity(tracker, name) or slot_text(tracker, name)
