"""Rasa's SQL tracker store, keeping no personal data in clear.

What is written to the events table:
- the private slots (phone, ID number, proof of identity, policy number) are encrypted with TRACKER_KEY
  (Fernet) and decrypted when the conversation is read back, so a form still works across turns;
- every other text (the customer's messages, their parse data, the bot's replies) is masked for good:
  mobiles and ID numbers as core.ids.redact masks them, long numbers said in words (幺三九…) kept to
  their first 3 and last 4 characters, and the digits of an answer to the proof question (身份证后四位…)
  starred out, whether it was asked for or given with its cue.

endpoints.yml:
    tracker_store:
      type: bot.tracker_store.PrivateSQLTrackerStore
      dialect: sqlite            # every SQLTrackerStore setting works as before
      db: var/tracker.db
      private_slots: [phone, id_number, verifier, policy_number]   # optional, this is the default
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Text

import yaml
from cryptography.fernet import Fernet, InvalidToken
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from core.ids import redact
from core.secrets import DEV_TRACKER_KEY, MIN_LENGTH, InsecureConfiguration, production

log = logging.getLogger(__name__)

PRIVATE_SLOTS = ("phone", "id_number", "verifier", "policy_number")
PROOF_SLOT = "verifier"
SEALED = "enc:v1:"
_FORMS = Path(__file__).resolve().parents[1] / "actions" / "forms.yaml"  # the proof cue, kept as form vocabulary

_DIGITISH = "0-9零〇洞一幺二两三四五六七八九"
_SAID_NUMBER = re.compile(rf"[{_DIGITISH}](?:\s?[{_DIGITISH}]){{6,}}")
_SAID = re.compile(r"[零〇洞一幺二两三四五六七八九]")
_DIGITS = re.compile(rf"[{_DIGITISH}]")


def _proof_cue() -> re.Pattern:
    cue = (yaml.safe_load(_FORMS.read_text(encoding="utf-8")) or {}).get("verifier_cue") or "后[四4]位|尾号"
    return re.compile(rf"((?:{cue}))([{_DIGITISH}Xx\s]{{4,}})")


_CUE = _proof_cue()


def fernet(secret: str | None) -> Fernet:
    raw = hashlib.sha256((secret or DEV_TRACKER_KEY).encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def _star(s: str) -> str:
    return _DIGITS.sub("*", s)


def _said_number(m: re.Match) -> str:
    s = m.group(0)
    if not _SAID.search(s):
        return s  # typed digits: core.ids.redact has masked what is a mobile or an ID number
    spots = [i for i, c in enumerate(s) if _DIGITS.match(c)]
    keep = set(spots[:3] + spots[-4:])
    return "".join("*" if i in spots and i not in keep else c for i, c in enumerate(s))


def mask_text(text: str, proof_answer: bool = False) -> str:
    """The text as it may be stored: see the module doc."""
    if not text:
        return text
    if proof_answer:
        return _star(text)
    s = redact(text) or ""
    s = _CUE.sub(lambda m: m.group(1) + _star(m.group(2)), s)
    return _SAID_NUMBER.sub(_said_number, s)


def _strings(value: Any, change: Callable[[str, str], Any], key: str = "") -> Any:
    """`value` with every string in it (at any depth) replaced by change(string, its dict key)."""
    if isinstance(value, str):
        return change(value, key)
    if isinstance(value, list):
        return [_strings(v, change, key) for v in value]
    if isinstance(value, dict):
        return {k: _strings(v, change, k) for k, v in value.items()}
    return value


def _mask_all(value: Any, proof_answer: bool) -> Any:
    """Every string masked; a proof answer's texts and entity values starred out."""
    return _strings(value, lambda s, key: mask_text(s, proof_answer and key in ("text", "value")))


def _redact_all(value: Any) -> Any:
    """Mobiles and ID numbers masked only: slot values other than the private ones hold times and names the
    next turn needs as they are."""
    return _strings(value, lambda s, _key: redact(s))


class _Stored:
    """An event as it is written: type_name as Rasa's, as_dict() masked and sealed."""

    def __init__(self, event, data: dict):
        self.type_name, self._data = event.type_name, data

    def as_dict(self) -> dict:
        return self._data


class PrivateSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, private_slots: Optional[Iterable[str]] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.private_slots = frozenset(private_slots or PRIVATE_SLOTS)
        key = (os.environ.get("TRACKER_KEY") or "").strip()
        if production() and (not key or key == DEV_TRACKER_KEY or len(key) < MIN_LENGTH):
            raise InsecureConfiguration("tracker store: refusing to start with APP_ENV=production without a "
                                        "TRACKER_KEY of its own (see docs/security.md)")
        self._fernet = fernet(key)

    # -- writing ------------------------------------------------------------------
    def seal(self, value: Any) -> Any:
        if value in (None, ""):
            return value
        token = self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8"))
        return SEALED + token.decode("ascii")

    def stored_form(self, event, asked: str | None) -> dict:
        """The event's dict as written: private slot values sealed, every text masked."""
        data = event.as_dict()
        if data.get("event") == "slot" and data.get("name") in self.private_slots:
            return {**_mask_all({k: v for k, v in data.items() if k != "value"}, False),
                    "value": self.seal(data.get("value"))}
        if data.get("event") == "slot":
            return {**data, "value": _redact_all(data.get("value"))}
        proof = data.get("event") == "user" and asked == PROOF_SLOT
        return _mask_all(data, proof)

    def _additional_events(self, session, tracker: DialogueStateTracker) -> Iterator:
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        asked: str | None = None  # the slot the form was asking for when each message came
        for i, event in enumerate(tracker.events):
            if i >= stored:
                yield _Stored(event, self.stored_form(event, asked))
            data_event = getattr(event, "type_name", "")
            if data_event == "slot" and getattr(event, "key", None) == "requested_slot":
                asked = event.value
            elif data_event == "active_loop" and getattr(event, "name", None) is None:
                asked = None

    # -- reading ------------------------------------------------------------------
    def unseal(self, value: Any) -> Any:
        if not (isinstance(value, str) and value.startswith(SEALED)):
            return value  # stored before sealing, or empty
        try:
            return json.loads(self._fernet.decrypt(value[len(SEALED):].encode("ascii")))
        except (InvalidToken, ValueError):
            log.warning("a private slot could not be decrypted (TRACKER_KEY changed?); it reads as empty")
            return None

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        for e in events:
            if e.get("event") == "slot" and e.get("name") in self.private_slots:
                e["value"] = self.unseal(e.get("value"))
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None
