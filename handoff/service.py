"""Create, list, claim and close handoffs. One open handoff per conversation: asking again updates it."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.db import engine_for, session_scope
from core.ids import redact
from core.text import plain, plain_json
from handoff.models import STATUSES, Handoff

MAX_TRANSCRIPT = 200  # turns kept
MAX_TURN_CHARS = 1000
_ready: set[int] = set()


@dataclass(frozen=True)
class HandoffView:
    number: str
    conversation_id: str
    channel: Optional[str]
    insurer: Optional[str]
    reason: str
    summary: Optional[str]
    transcript: tuple[dict, ...]
    slots: dict
    status: str
    agent: Optional[str]
    created_at: datetime
    updated_at: datetime


def _view(h: Handoff) -> HandoffView:
    return HandoffView(h.number, h.conversation_id, h.channel, h.insurer, h.reason, h.summary,
                       tuple(h.transcript or ()), dict(h.slots or {}), h.status, h.agent, h.created_at, h.updated_at)


def ensure_schema(engine: Engine | None = None) -> Engine:
    engine = engine or engine_for()
    if id(engine) not in _ready:
        Handoff.__table__.create(engine, checkfirst=True)
        _ready.add(id(engine))
    return engine


PROOF_SLOTS = {"verifier", "phone"}  # a customer's answer to these questions is a proof of identity
PROOF_HIDDEN = "［身份核实信息，未保存］"


def _clean_transcript(turns) -> tuple[list[dict], set[str]]:
    """(turns with mobiles and ID numbers masked and proof answers replaced, the raw texts replaced)."""
    out, hidden, asked = [], set(), None
    for t in list(turns or [])[-MAX_TRANSCRIPT:]:
        if not isinstance(t, dict):
            continue
        who = plain(t.get("who") or "user")[:8]
        text = plain(t.get("text") or "").strip()
        if who == "bot":
            asked = t.get("asks")
        elif asked in PROOF_SLOTS and text:
            hidden.add(text)
            text = PROOF_HIDDEN
        if text:
            out.append({"who": who, "text": redact(text)[:MAX_TURN_CHARS],
                        **({"at": plain(t["at"])} if t.get("at") else {})})
    return out, hidden


def _redact_json(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def create_handoff(conversation_id: str, *, transcript=(), reason: str = "customer_request",
                   channel: str | None = None, insurer: str | None = None, summary: str | None = None,
                   slots: dict | None = None, engine: Engine | None = None) -> tuple[HandoffView, bool]:
    """(handoff, created). An open or claimed handoff of the same conversation is updated, not duplicated."""
    conv = (plain(conversation_id or "").strip() or "anonymous")[:128]
    engine = ensure_schema(engine)
    now = datetime.now(timezone.utc)
    with session_scope(engine) as s:
        h = s.scalar(select(Handoff).where(Handoff.conversation_id == conv, Handoff.status.in_(("open", "claimed")))
                     .order_by(Handoff.id.desc()))
        created = h is None
        if created:
            h = Handoff(number=f"H{now:%Y%m%d}-{secrets.token_hex(3).upper()}", conversation_id=conv,
                        reason=plain(reason or "customer_request")[:64], status="open", created_at=now)
            s.add(h)
        h.channel = (channel or h.channel or None) and plain(channel or h.channel)[:32]
        h.insurer = (insurer or h.insurer or None) and plain(insurer or h.insurer)[:128]
        turns, hidden = _clean_transcript(transcript)
        if summary:
            summary = PROOF_HIDDEN if plain(summary).strip() in hidden else redact(plain(summary))[:MAX_TURN_CHARS]
        h.summary = summary or h.summary
        h.transcript = turns
        h.slots = _redact_json(plain_json({k: v for k, v in (slots or {}).items() if v is not None and k != "verifier"}))
        h.updated_at = now
        s.flush()
        return _view(h), created


def list_handoffs(status: str | None = "open", engine: Engine | None = None, limit: int = 100) -> list[HandoffView]:
    """What an operator sees: handoffs in a status (None = all), oldest first."""
    engine = ensure_schema(engine)
    q = select(Handoff).order_by(Handoff.created_at, Handoff.id).limit(max(1, min(int(limit), 1000)))
    if status:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        q = q.where(Handoff.status == status)
    with Session(engine) as s:
        return [_view(h) for h in s.scalars(q)]


def get_handoff(number: str, engine: Engine | None = None) -> HandoffView | None:
    engine = ensure_schema(engine)
    with Session(engine) as s:
        h = s.scalar(select(Handoff).where(Handoff.number == str(number or "").strip().upper()))
        return _view(h) if h else None


def _move(number: str, frm: tuple[str, ...], to: str, agent: str | None, engine: Engine | None) -> HandoffView:
    engine = ensure_schema(engine)
    with session_scope(engine) as s:
        h = s.scalar(select(Handoff).where(Handoff.number == str(number or "").strip().upper()))
        if h is None:
            raise LookupError(f"no handoff {number!r}")
        if h.status not in frm:
            raise ValueError(f"handoff {h.number} is {h.status}, cannot become {to}")
        h.status, h.updated_at = to, datetime.now(timezone.utc)
        if agent:
            h.agent = str(agent)[:64]
        s.flush()
        return _view(h)


def redact_stored(engine: Engine | None = None) -> int:
    """Mask handoffs stored before masking existed (`python -m handoff redact`); returns rows changed.
    Old transcripts do not say which question a bot turn asked: a turn asking for a mobile or ID ending
    counts as a proof question."""
    engine = ensure_schema(engine)
    changed = 0
    with session_scope(engine) as s:
        for h in s.scalars(select(Handoff)):
            turns = [dict(t, asks="verifier") if isinstance(t, dict) and t.get("who") == "bot" and not t.get("asks")
                     and any(w in str(t.get("text") or "") for w in ("后四位", "手机号")) else t
                     for t in (h.transcript or [])]
            cleaned, hidden = _clean_transcript(turns)
            summary = h.summary and (PROOF_HIDDEN if h.summary.strip() in hidden else redact(h.summary))
            slots = _redact_json({k: v for k, v in (h.slots or {}).items() if k != "verifier"})
            if (cleaned, summary, slots) != (h.transcript, h.summary, h.slots):
                h.transcript, h.summary, h.slots = cleaned, summary, slots
                changed += 1
    return changed


def claim_handoff(number: str, agent: str, engine: Engine | None = None) -> HandoffView:
    return _move(number, ("open",), "claimed", agent, engine)


def close_handoff(number: str, agent: str | None = None, engine: Engine | None = None) -> HandoffView:
    return _move(number, ("open", "claimed"), "closed", agent, engine)
