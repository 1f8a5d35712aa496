"""Checked citations (assist.citecheck): a number an answer states must occur in the lines it cites, in
the customer's message or in a name; assist.qa withholds a reply that fails and offers a human."""
from __future__ import annotations

import pytest

import assist.qa as qa
from assist.citecheck import numbers, unchecked
from assist.qa import UNCHECKED_REPLY, Context, Reply, _clip, answer
from knowledge.query import KnowledgeBase

M000 = "000_0cd53a263ec9ebf5"


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase()


def _line_with(kb, manual: str, needle: str) -> int:
    for n, line in enumerate(kb.manual_lines(manual), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_numbers_read_words_and_digits_alike():
    assert numbers("三个工作日内，9:00-21:00") == {"3", "9", "00", "0", "21"}
    assert "10109955" in numbers("拨打 10109955")


def test_a_number_in_the_cited_lines_passes_and_one_outside_does_not(kb):
    n = _line_with(kb, M000, "一线城市（北京、上海、广州、深圳）300")
    src = kb.source(M000, n)
    assert unchecked(kb, "补贴上限 300 元/天。", [src]) == set()
    assert unchecked(kb, "补贴上限 350 元/天。", [src]) == {"350"}


def test_the_customers_numbers_names_and_derived_dates_pass(kb):
    n = _line_with(kb, M000, "一线城市（北京、上海、广州、深圳）300")
    src = kb.source(M000, n)
    text = "您的保单生效 45 天，7 天住院陪护自2026年12月18日起可以使用，补贴 300 元/天。"
    assert unchecked(kb, text, [src], said="保单生效45天了") == set()
    assert unchecked(kb, text, [src]) == {"45"}


def test_a_reply_with_an_uncited_number_is_withheld(kb, monkeypatch):
    n = _line_with(kb, M000, "一线城市（北京、上海、广州、深圳）300")
    invented = Reply("fact", "住院陪护补贴 999 元/天。", sources=[kb.source(M000, n)], remember={"service": "x"})
    monkeypatch.setattr(qa, "_answer", lambda *a, **k: invented)
    rep = answer(kb, "平安住院陪护补贴多少", Context())
    assert rep.text == UNCHECKED_REPLY and rep.handoff and "999" not in rep.text
    assert rep.remember == {"service": "x"}  # the conversation keeps its context


def test_a_cited_reply_is_sent_as_it_is(kb, monkeypatch):
    n = _line_with(kb, M000, "一线城市（北京、上海、广州、深圳）300")
    fine = Reply("fact", "住院陪护补贴上限 300 元/天。", sources=[kb.source(M000, n)])
    monkeypatch.setattr(qa, "_answer", lambda *a, **k: fine)
    assert answer(kb, "平安住院陪护补贴多少", Context()) is fine


def test_a_quote_is_never_cut_inside_a_number():
    assert _clip("拨打客服电话 10109955 进行申请", 12) == "拨打客服电话…"
    assert _clip("通常 7-10 个工作日内反馈", 7) == "通常…"
    assert _clip("短句", 10) == "短句"


def test_a_province_answer_cites_every_place_it_names(kb):
    rep = answer(kb, "太保健康复发险的门诊绿通在广东省有哪些医院？")
    assert rep.kind == "coverage" and "中山大学附属第五医院" in rep.text, rep.text
    cited = "".join(kb.manual_lines(s.manual_id)[s.line_start - 1] for s in rep.sources)
    assert "中山大学附属第五医院" in cited
    assert unchecked(kb, rep.text, rep.sources) == set()
