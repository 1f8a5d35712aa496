"""Property-based robustness of the custom actions, through rasa-sdk's own ActionExecutor (the code path
of the action server's /webhook): every registered action gets hostile trackers (arbitrary Unicode, 100k
characters, emoji, control characters, injection strings) as the message text, entities, slots, channel
metadata, intent and sender id, inside and outside its form.

None may raise, and none may log a swallowed exception (the answer actions' catch-all apology is kept for
real faults such as a database outage; on a healthy store it means a bug): the executor returns events the SDK
validated and messages for the customer. A form rejecting a slot (ActionExecutionRejection) is a normal
answer, not a crash.
"""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from policies.seed import fake_mobile, specs
from tests.test_actions import app  # noqa: F401,F811  (module fixture: private store copy, seeded policies)
from tests.test_fuzz_api import JSON_TEXT, NASTY

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=list(HealthCheck))

DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
EXECUTOR = ActionExecutor()
EXECUTOR.register_package("actions")
ACTIONS = sorted(EXECUTOR.actions)
SLOTS = sorted(DOMAIN["slots"])
FORMS = sorted(DOMAIN.get("forms") or {})
INTENTS = [i if isinstance(i, str) else next(iter(i)) for i in DOMAIN["intents"]]

# Plausible values per slot/entity, mixed half and half with hostile ones, so the fuzzer also reaches the deep
# paths (a known insurer + service + city gets a coverage answer; a seeded policy gets to verification).
POLICIES = [sp.number for sp in specs()]
PLAUSIBLE = {
    "insurer": ["平安", "众安", "平安健康", "太保", "人保"],
    "product": ["尊享e生", "好医保"],
    "service": ["就医陪诊", "院内陪护", "国内第二诊疗", "重疾绿通", "门诊预约", "送药上门", "陪诊", "二诊", "绿通"],
    "city": ["成都", "北京", "苏州", "上海市", "魔都", "SZ", "拉萨", "吉林", "朝阳"],
    "hospital": ["华西医院", "协和", "北京协和医院", "瑞金医院", "不指定"],
    "disease": ["肺癌", "恶性肿瘤", "心脏病"],
    "person": ["本人", "母亲", "我妈", "孩子", "配偶", "王小雨"],
    "date": ["明天上午", "下周三", "2026-12-24", "12月24日下午3点", "昨天"],
    "policy_number": POLICIES + ["PAH2025", "XYZ"],
    "phone": [fake_mobile(i) for i in range(6)] + ["13912345678"],
    "id_number": ["1234", "110101199001011234"],
    "verifier": [fake_mobile(i) for i in range(3)] + ["1234"],
    "topic": ["等待期", "次数", "费用", "材料", "电话"],
    "ticket_number": ["T20260101-000001", "T99999999-999999"],
    "diagnosis": [True, False], "confirm": [True, False], "verify_failures": [0, 1, 2, 3, 99],
    "last_answer": ["action_coverage", "action_service_info", "action_check_eligibility"],
}
TEXT = st.one_of(JSON_TEXT, st.sampled_from(NASTY),
                 st.sampled_from([str(v) for vs in PLAUSIBLE.values() for v in vs]))
VALUE = st.one_of(st.none(), TEXT, st.booleans(), st.integers(), st.floats(),
                  st.lists(TEXT, max_size=3), st.dictionaries(TEXT, TEXT, max_size=2))


def plausible_or_hostile(name: str):
    """Two parts plausible, one part hostile (a choice first: st.one_of would flatten VALUE's branches)."""
    ok = st.sampled_from(PLAUSIBLE.get(name) or [""])
    return st.integers(0, 2).flatmap(lambda i: VALUE if i == 0 else ok)


ENTITY_NAME = st.integers(0, 3).flatmap(lambda i: TEXT if i == 0 else st.sampled_from(DOMAIN["entities"]))
ENTITY = ENTITY_NAME.flatmap(lambda e: st.fixed_dictionaries(
    {"entity": st.just(e), "value": plausible_or_hostile(e)},
    optional={"start": st.integers(), "end": st.integers(),
              "extractor": st.sampled_from(["DIETClassifier", "RegexEntityExtractor", "SpacyEntityExtractor"])}))
SLOT_VALUES = st.fixed_dictionaries({}, optional={s: plausible_or_hostile(s) for s in SLOTS})
METADATA = st.one_of(st.none(), st.fixed_dictionaries({}, optional={"insurer": plausible_or_hostile("insurer"),
                                                                     "channel": st.sampled_from(["wechat", "widget",
                                                                                                 "ivr"]) | VALUE}),
                     VALUE)


def action_call(name, text, intent, entities, slots, metadata, loop, requested, sender) -> dict:
    slots = dict(slots)
    if requested is not None:
        slots["requested_slot"] = requested
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities, "text": text,
              "message_id": "m1", "metadata": metadata,
              "intent_ranking": [{"name": intent, "confidence": 0.9}, {"name": "inform", "confidence": 0.05}]}
    events = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": text, "parse_data": latest, "metadata": metadata}]
    tracker = {"sender_id": sender, "slots": slots, "latest_message": latest, "events": events, "paused": False,
               "followup_action": None, "active_loop": {"name": loop} if loop else {},
               "latest_action_name": "action_listen", "latest_input_channel": "rest"}
    return {"next_action": name, "sender_id": sender, "tracker": tracker, "domain": DOMAIN, "version": "3.6.21"}


class _Swallowed(logging.Handler):
    """Collects exceptions the actions caught and logged (log.exception) instead of raising."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(record)


def execute(call: dict):
    swallowed, logger = _Swallowed(), logging.getLogger("actions")
    logger.addHandler(swallowed)
    try:
        return asyncio.run(EXECUTOR.run(call))
    except ActionExecutionRejection:
        return None
    finally:
        logger.removeHandler(swallowed)
        for r in swallowed.records:
            raise AssertionError(f"{call['next_action']} caught and logged: {r.getMessage()}") from r.exc_info[1]


def check(result) -> None:
    if result is None:  # a form refused the slot: Rasa asks again
        return
    for e in result.events:
        assert isinstance(e, dict) and e.get("event"), e
    for m in result.responses:
        assert isinstance(m, dict)
        if m.get("text") is not None:
            assert isinstance(m["text"], str) and m["text"].strip(), m
            assert "Traceback" not in m["text"]


@pytest.mark.parametrize("name", ACTIONS)
@FUZZ
@given(text=TEXT, intent=st.one_of(st.sampled_from(INTENTS), TEXT), entities=st.lists(ENTITY, max_size=4),
       slots=SLOT_VALUES, metadata=METADATA,
       loop=st.one_of(st.none(), st.sampled_from(FORMS)), requested=st.one_of(st.none(), st.sampled_from(SLOTS), TEXT),
       sender=TEXT)
def test_every_action_survives_hostile_trackers(app, name, text, intent, entities, slots, metadata, loop,
                                                requested, sender):
    check(execute(action_call(name, text, intent, entities, slots, metadata, loop, requested, sender)))


@pytest.mark.parametrize("name", [a for a in ACTIONS if a.startswith("validate_")])
@FUZZ
@given(requested=st.sampled_from(SLOTS).flatmap(lambda s: st.tuples(st.just(s), plausible_or_hostile(s))),
       slots=SLOT_VALUES, text=TEXT)
def test_form_validation_with_hostile_answer_to_each_question(app, name, requested, slots, text):
    """The customer answers the form's current question with junk: the slot is refused or kept, never a crash."""
    form = name.removeprefix("validate_")
    slot, value = requested
    call = action_call(name, text, "inform", [], {**slots, slot: value}, None, form, slot, "fuzz-form")
    check(execute(call))


def test_every_domain_action_is_registered():
    """The fuzz covers what Rasa can call: every custom action in the domain is in the executor."""
    custom = [a for a in DOMAIN["actions"] if a.startswith(("action_", "validate_"))]
    assert set(custom) <= set(ACTIONS), set(custom) - set(ACTIONS)
