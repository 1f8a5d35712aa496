"""Answer-level check of every coverage list row in the full store (knowledge.coverage.check_answers):
asking a row's service about the row's place answers `covered` on that row with its own printed count;
asking about a listed hospital's city lists that hospital."""
from __future__ import annotations

from knowledge.coverage import check_answers
from knowledge.query import KnowledgeBase


def test_every_row_answered_as_the_row_says(kb_engine):
    res = check_answers(KnowledgeBase(kb_engine))
    assert set(res) >= {"000_0cd53a263ec9ebf5", "001_01c07bc6b9f80855", "002_7863e0c3ac0521b1",
                        "003_e8b033acd9a55b94"}
    assert sum(st["rows"] for st in res.values()) > 7000
    assert {mid: st["bad"] for mid, st in res.items()} == {mid: 0 for mid in res}
    # bare names that mean another place without their row's province (江北, 东港, 海城, 昌江, 通州市, 双桥 …)
    assert sum(st["needs_province"] for st in res.values()) <= 10
