"""assist.qa on the built store: products as names, stated facts, aspects answered from clauses with the
number first, honest silence, ambiguity asked with only the products that have the service, follow-ups.

Questions here are the project's own examples of each capability (not blind evaluation items)."""
from __future__ import annotations

import re

import pytest

from assist.qa import UNCHECKED_REPLY, Context, answer
from knowledge.query import KnowledgeBase


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase()


def _cited_text(kb, rep) -> str:
    out = []
    for s in rep.sources:
        d = s if isinstance(s, dict) else {"manual_id": s.manual_id, "line_start": s.line_start,
                                            "line_end": s.line_end}
        lines = kb._manual_lines(d["manual_id"]) or []
        out.append("".join(lines[d["line_start"] - 1:d["line_end"]]))
    return "".join(out)


def numbers_uncited(kb, rep, question: str) -> list[str]:
    """Numbers the reply states that neither its cited lines nor the question hold (a reply withheld by
    the citation check counts as a failure: the answer was wanted)."""
    if rep.text == UNCHECKED_REPLY:
        return ["withheld"]
    cited = re.sub(r"\s+", "", _cited_text(kb, rep))
    asked = re.sub(r"\s+", "", question)
    said = re.sub(r"（来源.*", "", rep.text)
    said = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", "", said)  # dates the rules derive
    return [n for n in re.findall(r"\d+(?:\.\d+)?", said) if n not in cited and n not in asked]


def test_product_name_sets_scope_and_lists_its_services(kb):
    rep = answer(kb, "太保蓝本有哪些服务")
    assert rep.kind == "services"
    assert rep.remember.get("product") == "太保蓝本"
    assert "二次诊疗" in rep.text and rep.sources


def test_sound_alike_product_and_service_names(kb):
    rep = answer(kb, "兰本的二次诊疗是什么")
    assert rep.remember.get("product") == "太保蓝本"
    assert rep.remember.get("service", "").endswith("二次诊疗")


def test_chinese_numerals_inside_a_service_name_survive_normalising(kb):
    rep = answer(kb, "二次诊疗是干什么的")
    # 太保蓝本 and 众安's compilation both have it: asked, offering only those two
    assert rep.kind == "ask_product"
    titles = [t for t, _ in rep.options]
    assert any("蓝本" in t for t in titles) and any("众安" in t for t in titles)
    assert not any("平安" in t for t in titles)


def test_lead_time_answered_with_the_number_first_and_its_clause(kb):
    q = "平安的7天住院陪护要提前多久申请"
    rep = answer(kb, q)
    assert rep.kind == "fact" and rep.aspect == "lead_time"
    assert rep.text.index("12") < rep.text.index("手册原文")
    assert rep.sources and rep.sources[0].manual_id.startswith("000")
    assert numbers_uncited(kb, rep, q) == []


def test_stated_facts_decide_without_a_policy(kb):
    q = "平安健康的住院协助，保单刚生效20天能用吗"
    rep = answer(kb, q)
    assert rep.kind == "eligibility"
    assert "不能使用" in rep.text.splitlines()[0]
    assert "30" in rep.text and rep.sources
    assert numbers_uncited(kb, rep, q) == []


def test_own_policy_wording_starts_the_policy_check(kb):
    rep = answer(kb, "帮我查一下我的保单能不能用平安健康的住院协助")
    assert rep.check_policy


def test_silence_is_said_with_a_hotline_and_a_human(kb):
    rep = answer(kb, "平安健康的住院协助能不能指定主刀医生的学历")
    if rep.kind == "not_in_manual":
        assert "手册里没有写" in rep.text and "转人工" in rep.text


def test_situation_recommends_services_of_its_kind(kb):
    rep = answer(kb, "出院回家想请护士上门换药")
    assert rep.kind == "recommend"
    assert "护理" in rep.text and len(rep.sources) >= 2


def test_coverage_of_a_city_with_the_list_line(kb):
    rep = answer(kb, "平安健康的门诊协助在成都能用吗")
    assert rep.kind == "coverage" and "成都" in rep.text
    assert rep.remember.get("city") == "成都"  # as customers say it, like the coverage action


def test_follow_up_keeps_service_and_asks_another_city(kb):
    first = answer(kb, "平安健康的门诊协助在成都能用吗")
    ctx = Context(insurer=first.remember.get("insurer"), product=first.remember.get("product"),
                  service=first.remember.get("service"), city=first.remember.get("city"), last_kind=first.kind)
    rep = answer(kb, "那拉萨呢", ctx)
    assert rep.kind == "coverage" and "拉萨" in rep.text


def test_follow_up_other_service_same_aspect(kb):
    first = answer(kb, "平安的7天住院陪护要提前多久申请")
    ctx = Context(insurer=first.remember.get("insurer"), product=first.remember.get("product"),
                  service=first.remember.get("service"), last_kind=first.kind, last_aspect=first.aspect)
    rep = answer(kb, "那出院交通呢", ctx)
    assert rep.kind in ("fact", "not_in_manual")
    assert "出院" in rep.text or rep.kind == "not_in_manual"


def test_contact_of_an_insurer_names_no_service(kb):
    rep = answer(kb, "众安的客服电话是多少")
    assert rep.kind == "contact" and "service" not in rep.remember
    assert re.search(r"\d{5,}", rep.text)


@pytest.mark.parametrize("q", ["", "   ", "？？？", "x" * 5000, "喂喂 嗯 那个"])
def test_bad_input_gets_a_clear_reply(kb, q):
    rep = answer(kb, q)
    assert rep.text


def test_a_relation_word_is_read_as_the_person(kb):
    from assist.facts import read_facts

    f = read_facts("我女儿想用这个服务")
    assert f.relation == "child" and "relation" in f.said
    g = read_facts("我爸是这张保单的被保险人")
    assert g.relation == "self"


def test_a_question_about_something_the_manual_never_mentions_is_answered_honestly(kb):
    rep = answer(kb, "平安健康的住院协助能顺便帮忙代办签证吗")
    assert rep.kind == "not_in_manual"
    assert "手册里没有写" in rep.text and "转人工" in rep.text


def test_the_question_waiting_for_a_product_is_answered_when_it_comes(kb):
    first = answer(kb, "二次诊疗多久能出结果")
    assert first.kind == "ask_product" and first.pending
    rep = answer(kb, "我的是太保蓝本", Context(pending=first.pending, last_kind=first.kind))
    assert rep.kind != "ask_product" and rep.remember.get("product") == "太保蓝本"


def test_a_deadline_after_an_event_already_passed_is_a_no(kb):
    from assist.facts import read_facts
    from assist.qa import _clause_says_no
    from assist.understand import read

    r = read(kb, "我出院已经三个月了还能申请吗")
    why = _clause_says_no(kb, r, None, "出院后 1 个月内申请,需提前24小时申请服务", read_facts(r.text))
    assert why and "1个月" in why
    r2 = read(kb, "我出院才一周还能申请吗")
    assert _clause_says_no(kb, r2, None, "出院后 1 个月内申请", read_facts(r2.text)) == ""


def test_aspect_values_in_chinese_numerals():
    """zh.yaml `{n}`: 三折 and 两次 are values as much as 3 折 and 2 次; 一次性 is no count."""
    from assist.lexicon import lexicon

    by = {a.key: a for a in lexicon().aspects}
    assert by["discount"].unit.search("享受三折的折扣优惠").group(0) == "三折"
    assert by["count"].unit.search("每年限两次").group(0).endswith("两次")
    assert by["count"].unit.search("一次性口罩、清洁手套") is None
    assert by["duration"].unit.search("最长七天").group(0) == "七天"
    assert by["number"].unit.search("至少提前三个工作日告知") is None


def test_titles_are_never_quoted_as_answers():
    from assist.qa import _heading

    assert _heading("服务条件") and _heading("五、服务流程、申请条件、服务须知及注意事项")
    assert _heading("(4) 服务次数:") and _heading("2、服务流程") and not _heading("保单年度内不限次数。")
    assert not _heading("客户经公立医院专科医生确诊,且须经公司审核同意。")
    assert not _heading("三甲视频 问诊 6次/年")


def test_a_name_with_a_numeral_is_the_service_not_a_fact(kb):
    """三甲 inside a service's name (normalised to 3甲 in the message) names the service; it states no
    hospital grade, and the question is not an eligibility check."""
    from assist.understand import read

    r = read(kb, "太保蓝本的重疾三甲专家病房怎么申请")
    assert r.services and r.services[0][0].name == "重疾三甲专家病房"
    assert r.facts.hospital_grade is None and not r.facts.said



def test_uncovered_city_offers_the_listed_cities_of_its_province(kb):
    rep = answer(kb, "平安健康的门诊协助在那曲能用吗")
    assert rep.kind == "coverage" and "那曲不在门诊协助的服务范围内" in rep.text
    assert "同省能用这项服务的城市有：" in rep.text and "拉萨市" in rep.text
    assert any("拉萨" in (getattr(s, "quote", None) or s.get("quote") or "") for s in rep.sources)  # its line


def test_a_phone_number_comes_with_the_hours_its_line_gives(kb):
    rep = answer(kb, "众安尊享e生PLUS有客服热线吗")
    assert rep.kind == "contact" and "021-38139960（周一至周日8:00—22:00）" in rep.text
    assert rep.text.count("8:00—22:00") == 1


def test_a_county_level_place_is_answered_on_its_own_row(kb):
    """The customer's county-level word (崇州) is looked up itself, not replaced by its prefecture."""
    rep = answer(kb, "平安健康的门诊协助在崇州能用吗")
    assert rep.kind == "coverage" and "崇州市在门诊协助的服务范围内（清单单独列出）" in rep.text


def test_how_long_is_not_answered_with_a_deadline_and_own_clauses_come_first(kb):
    rep = answer(kb, "平安健康就医陪诊，陪诊员每次最多陪多少个小时？", Context())
    assert "4 小时" in rep.text and "响应" not in rep.text.split("手册原文")[0], rep.text
    rep = answer(kb, "尊享e生PLUS院后随访一年可以用几次？需要什么前提？", Context())
    head = rep.text.split("手册原文")[0]
    assert "院后随访" in head and "不限次" in rep.text and "住院治疗结束" in rep.text, rep.text


def test_a_cost_the_manual_leaves_to_the_customer_is_a_no(kb):
    rep = answer(kb, "平安健康的就医陪诊，停车费你们给报销吗？", Context())
    assert "自己承担" in rep.text.split("手册原文")[0] and "停车费" in rep.text, rep.text
    rep = answer(kb, "平安健康就医陪诊要提前多久约？", Context())
    assert "自己承担" not in rep.text


def _decision(rep):
    return (rep.items or [{}])[0].get("decision")


def test_whose_policy_it_is_decides_a_service_for_the_insured_only(kb):
    # the relative holds the policy: they are the insured, the service is theirs
    own = answer(kb, "我爸自己买了平安健康险，他住院了能申请住院探视吗")
    assert own.kind == "eligibility" and "不能使用" not in own.text, own.text
    # the relative is named, whose policy it is is not said: the condition, not a refusal
    open_ = answer(kb, "我爸住院了，平安健康险的住院探视他能用吗")
    assert _decision(open_) == "need_info" and "如果这位家人本人就是被保险人" in open_.text, open_.text
    # the speaker wants to use a relative's policy, or lend their own: no
    borrow = answer(kb, "我老婆的平安健康险有住院探视，我自己住院了能用她保单上的吗")
    assert _decision(borrow) == "not_eligible" and "仅限被保险人本人" in borrow.text, borrow.text
    lend = answer(kb, "我哥没买保险，能用我的平安健康险住院探视去看他吗")
    assert _decision(lend) == "not_eligible", lend.text


def test_a_quantity_asked_with_who_the_customer_is_gets_the_number(kb):
    rep = answer(kb, "我先生是尊享e生PLUS的被保险人，院内陪护全年最多陪多少天")
    assert rep.kind == "fact" and "30" in rep.text, rep.text
    assert not numbers_uncited(kb, rep, "")


def test_what_the_question_pins_down_and_the_service_never_mentions_is_unsaid(kb):
    # 还是 / 谁出 / 另外付: the thing asked for is nowhere in the service's text
    for q in ("平安健康的就医陪诊，陪诊员是坐地铁还是打车过去？", "平安健康的住院垫付，垫付款的利息谁出？"):
        rep = answer(kb, q)
        assert rep.kind == "not_in_manual" and rep.handoff, (q, rep.text)
    # the same forms about something the service does state are answered
    rep = answer(kb, "众安的门诊挂号协助，挂号费是保险公司出还是我自己出？")
    assert rep.kind != "not_in_manual", rep.text


def test_an_item_the_clause_lists_as_outside_the_service_is_a_no(kb):
    rep = answer(kb, "众安的门诊挂号协助能帮我约医美科的号吗")
    assert "不" in rep.text.split("\n")[0] and "医美" in rep.text, rep.text


def test_a_condition_the_stated_case_fails_is_found_in_any_clause_of_the_service(kb, monkeypatch):
    from types import SimpleNamespace

    from assist import qa
    from assist.understand import read

    clauses = [SimpleNamespace(id=1, text="服务内容:护士上门换药。"),
               SimpleNamespace(id=2, text="申请条件:须已取得医院开具的出院小结,并在出院后 10 天内预约。")]
    monkeypatch.setattr(kb, "clauses", lambda **kw: clauses)
    svc = SimpleNamespace(id=0, name="某服务", aliases=())
    late = read(kb, "我手术完，出院都两周了，还能约吗")
    why, c = qa._conditions_against(kb, late, svc, late.facts)
    assert c is clauses[1] and "10天" in why
    lacking = read(kb, "医院还没给出院小结，能先约吗")
    why, c = qa._conditions_against(kb, lacking, svc, lacking.facts)
    assert c is clauses[1] and "出院小结" in why
    fine = read(kb, "出院3天了，出院小结也拿到了，能约吗")
    assert qa._conditions_against(kb, fine, svc, fine.facts) == ("", None)


def test_a_word_two_insurers_share_narrows_to_them_and_a_long_name_survives_a_word_inside(kb):
    from assist.names import index_for
    from assist.understand import read

    r = read(kb, "太平洋那个保险的就医陪诊要提前几天约")
    assert {i.short_name for i in r.insurer_group} == {"太保健康", "太保寿险"}
    rep = answer(kb, "太平洋那个保险的就医陪诊要提前几天约")
    assert "平安" not in rep.text, rep.text  # 平安 has 就医陪诊 too, but was not named
    assert [m.manual_id[:3] for m in index_for(kb).products_in("我买的是妇科癌症复发的医疗保险")] == ["002"]


def test_each_question_of_a_message_gets_its_answer(kb):
    # two aspects in two questions: the count and the duration, each with its number and clause
    rep = answer(kb, "尊享e生PLUS院内陪护能用几次？每次最长陪多少天？")
    assert "不限次" in rep.text and "30" in rep.text, rep.text
    assert not numbers_uncited(kb, rep, "")


def test_days_said_in_chinese_numerals_and_costs_asked_with_who_pays(kb):
    rep = answer(kb, "平安健康险是两天前刚生效的，现在能申请门诊协助吗")
    assert _decision(rep) == "not_eligible" and "30" in rep.text, rep.text
    rep = answer(kb, "平安健康的就医陪诊，药品费、诊疗费这些谁来出？")
    assert rep.kind != "not_in_manual" and "自己承担" in rep.text, rep.text


def test_a_situation_with_places_and_a_tier_name_still_gets_the_services_that_fit(kb):
    # a city named in passing and a tier (无忧管家尊享版) that shares words with a service
    rep = answer(kb, "我有太保蓝本无忧管家尊享版，要从老家去北京大医院看病，机场接送、住宿都不知道咋办，有什么服务能用？")
    assert rep.kind == "recommend" and "异地就医" in rep.text, rep.text


def test_a_hospital_the_list_names_by_its_full_title_is_on_the_list(kb):
    # the store knows 北京天坛医院 (another manual) and 首都医科大学附属北京天坛医院 (this service's list)
    rep = answer(kb, "众安门诊挂号协助能约北京天坛医院吗")
    assert rep.kind == "coverage" and "首都医科大学附属北京天坛医院" in rep.text and "不在" not in rep.text, rep.text


@pytest.mark.parametrize("q, yes", [
    ("平安健康的就医陪诊，今年我已经用过1次了，还能再约吗？", False),  # 1 per period: used up
    ("众安的门诊挂号协助这个保单年度做过1回了，还可以用吗？", True),  # 3 per year: two left
])
def test_uses_stated_for_this_year_are_counted_without_the_effective_date(kb, q, yes):
    rep = answer(kb, q)
    head = rep.text.split("\n")[0]
    assert ("可以使用" in head) == yes and ("不能使用" in head) == (not yes), rep.text
    assert "次" in rep.text and "需要您的保单生效日期" not in rep.text, rep.text


def test_days_already_used_against_the_cap_in_days(kb):
    over = answer(kb, "众安的重大疾病住院护工今年累计用了31天了，还能再派吗？")
    assert over.items[0]["decision"] == "not_eligible" and "30" in over.text, over.text
    left = answer(kb, "众安的重大疾病住院护工今年用了10天，等待期早过了，还能再派吗？")
    assert "还没有用满" in left.text and "可以使用" in left.text, left.text
    assert not numbers_uncited(kb, left, "今年用了10天"), left.text


def test_a_waiting_period_said_to_be_over_passes_the_waiting_check(kb):
    rep = answer(kb, "我的尊享e生PLUS等待期早就过了，重疾绿通还用等吗？")
    assert "等待期的天数" not in rep.text and "等待期天数" not in rep.text, rep.text


def test_an_edition_word_said_with_a_sound_alike_is_the_edition(kb):
    rep = answer(kb, "蓝本普汇版的重疾专家预约能用几次")
    assert "请告诉我们您的服务版本" not in rep.text and "版本" not in rep.text.split("\n")[0][:4], rep.text


def test_a_name_only_one_of_the_insurers_manuals_uses_picks_that_manual(kb):
    from assist.qa import _manuals_said, _scope
    from assist.understand import read

    r = read(kb, "我在众安互联网医院申请门诊挂号协助要多久")
    assert _scope(kb, r, Context()).manual_ids == {"003_e8b033acd9a55b94"}
    both = read(kb, "众安的门诊挂号协助要多久")
    assert len(_manuals_said(kb, both, both.insurer)) == 2  # nothing said decides between the two


def test_a_provider_the_manual_never_names_is_not_answered_with_a_nearby_clause(kb):
    rep = answer(kb, "平安健康的就医陪诊能不能选爱尔眼科的陪诊员？")
    assert rep.kind == "not_in_manual" and "爱尔眼科" in rep.text, rep.text


def test_two_sounds_with_no_character_in_common_are_not_repaired():
    from assist.names import index_for

    kb = KnowledgeBase()
    fixed, fixes = index_for(kb).repair("护工是只陪我一个人吗")
    assert "只陪" in fixed and not fixes


def test_a_whole_province_is_answered_from_the_list(kb):
    whole = answer(kb, "尊享e生PLUS的院内陪护在福建能用吗")  # the list names 福建省 itself
    assert whole.items[0]["status"] == "covered" and "福建" in whole.text, whole.text
    none = answer(kb, "尊享e生PLUS的院内陪护在青海能用吗")
    assert none.items[0]["status"] == "not_covered", none.text
    part = answer(kb, "平安健康的门诊协助在江苏能用吗")
    assert part.items[0]["status"] == "partial" and "南京" in part.text, part.text


@pytest.mark.parametrize("said, kept", [("四川能用吗", "四川"), ("在三亚住院", "三亚"), ("十堰的医院", "十堰"),
                                        ("三元钱", "3元"), ("住了三天", "3天")])
def test_place_names_with_a_numeral_stay_words(said, kept):
    from assist.text import normalise

    assert kept in normalise(said)


def test_a_follow_up_with_another_tier_keeps_the_edition_said_before(kb):
    ctx = Context(product="太保蓝本", insurer="太保寿险", service="重疾陪诊服务", last_kind="fact", last_aspect="count",
                  edition_said="我的蓝本是2022版尊享版1档，重疾陪诊一年能用几次")
    rep = answer(kb, "那3档呢", ctx)
    assert rep.kind == "fact" and "2022" in rep.text and "3档" in rep.text, rep.text


def test_an_age_a_clause_rules_out_is_a_no(kb):
    from assist.facts import read_facts
    from assist.qa import _clause_says_no
    from assist.understand import read

    r = read(kb, "孩子4岁了，能开处方药吗")
    why = _clause_says_no(kb, r, None, "6 周岁(含)以下被保险人无法开具处方药品。", read_facts(r.text))
    assert "6周岁" in why
    r2 = read(kb, "孩子10岁了，能开处方药吗")
    assert _clause_says_no(kb, r2, None, "6 周岁(含)以下被保险人无法开具处方药品。", read_facts(r2.text)) == ""


def test_a_sentence_cut_by_a_page_break_stays_one_clause():
    from knowledge.clauses import segment

    lines = ["申请条件", "", "1）因疾病或者意外住院，住院天数大于 2 天（包含），日间手", "", "术除外；", "", "2）提供相关医学资料；"]
    texts = [c.text for c in segment("x", lines)]
    assert any("日间手术除外" in t for t in texts), texts


def test_when_the_condition_was_met_decides_the_service_window(kb):
    old = answer(kb, "太保蓝本2020版三档，五年前达标的，没有升级过，现在还能用专家预约吗")
    assert old.items[0]["decision"] == "not_eligible" and "结束" in old.text, old.text
    from assist.facts import read_facts

    f = read_facts("我是3个月前达标的，已经升级了")
    assert f.condition_days == 90 and f.upgraded is True


def test_a_count_asked_with_the_case_stated_gets_the_verdict_first(kb):
    rep = answer(kb, "我在平安健康买的保险两年了，本人用，就医陪诊能用几次？")
    head = rep.text.split("\n")[0]
    assert "可以使用" in head and "次" in rep.text, rep.text


def test_a_hospital_short_name_with_a_numeral_is_found(kb):
    rep = answer(kb, "众安的门诊挂号协助，哈尔滨能约哈医大一院吗")
    assert "哈尔滨医科大学附属第一医院" in rep.text and rep.items[0]["status"] == "covered", rep.text


def test_who_pays_asked_as_they_pay_is_a_fee_question(kb):
    rep = answer(kb, "众安的门诊挂号协助，挂号费你们出吗")
    assert "自行承担" in rep.text, rep.text


def test_a_lead_time_is_how_far_ahead_to_book_not_when_staff_arrive(kb):
    book = answer(kb, "平安健康的就医陪诊要提前多久约")
    assert "48" in book.text, book.text
    arrive = answer(kb, "平安健康的就医陪诊，陪诊员会提前多久到医院")
    assert "15-30" in arrive.text.replace(" ", ""), arrive.text


def test_who_pays_for_fees_a_service_names_is_answered_from_its_fee_clause(kb):
    rep = answer(kb, "平安健康的就医陪诊，那挂号费、检查费这些是谁出？")
    assert rep.kind != "not_in_manual" and "自行承担" in rep.text, rep.text


def test_a_situation_with_a_hospital_named_still_gets_services_that_fit(kb):
    rep = answer(kb, "平安健康的客户，我爸下个月在北京协和医院住院，我们都上班没时间陪，有什么服务？")
    assert "住院陪护" in rep.text, rep.text
    esc = answer(kb, "尊享e生PLUS，买了门急诊加油包，下周看门诊，一个人挂号缴费取药太折腾了，有什么服务吗？")
    assert "陪诊" in esc.text, esc.text


def test_the_speaker_of_a_policy_bought_for_a_child_is_not_its_insured(kb):
    rep = answer(kb, "平安健康的保单是给我女儿买的，我自己不在上面，我能用国内二诊吗")
    assert rep.items[0]["decision"] == "not_eligible", rep.text


def test_the_rarest_word_asked_about_finds_its_clause(kb):
    rep = answer(kb, "众安术后家庭护理，护士上门能给输液吗？")
    assert "输液" in rep.text and any("附件" in (getattr(x, "section", "") or "") for x in rep.sources), rep.text


def test_a_tier_without_the_service_names_the_tiers_that_have_it(kb):
    rep = answer(kb, "我是蓝本无忧管家专业版，特种检查预约加急能用吗")
    assert rep.items[0]["decision"] == "not_eligible" and "尊享版" in rep.text, rep.text


def test_a_name_said_right_in_part_and_misheard_in_part_is_repaired():
    from assist.names import index_for

    fixed, fixes = index_for(KnowledgeBase()).repair("众安的门诊挂号写助能约不")
    assert "门诊挂号协助" in fixed, (fixed, fixes)


def test_after_discharge_services_inside_hospital_no_longer_fit(kb):
    rep = answer(kb, "平安健康的客户，前几天刚出院，做完膝盖手术在家不知道怎么练，有什么服务能帮上？")
    assert "康复随访" in rep.text and "住院协助" not in rep.text, rep.text


def test_a_recommendation_keeps_to_the_edition_said(kb):
    rep = answer(kb, "我是蓝本2023尊享版2档，刚查出来疑似肺癌，想找个大医院专家看看，用哪个服务？")
    assert "重疾三甲专家预约" in rep.text and "重疾专家预约（" not in rep.text, rep.text


def test_a_product_named_only_to_deny_it_leaves_the_insurers_other_manual(kb):
    rep = answer(kb, "我的众安医疗险不是尊享e生，它的医疗垫付一次住院最多垫多少？")
    assert "10" in rep.text and all(s.manual_id.startswith("003") for s in rep.sources), rep.text


def test_a_follow_up_that_changes_one_fact_keeps_the_others(kb):
    first = "平安健康险的保单刚生效20天，这周要住院，能用住院协助吗？"
    assert answer(kb, first).kind == "eligibility" and "30天" in answer(kb, first).text.replace(" ", "")
    ctx = Context(insurer="平安健康", service="住院协助", last_kind="eligibility", earlier=first)
    rep = answer(kb, "那如果我的保单是转保过来的呢？", ctx)
    assert rep.kind == "eligibility" and "转保" in rep.text and "可以使用" in rep.text, rep.text
    rep = answer(kb, "那门诊协助呢？", ctx)  # another service, the same 20 days
    assert rep.kind == "eligibility" and "30天" in rep.text.replace(" ", ""), rep.text
    assert answer(kb, "那门诊协助呢？", Context(insurer="平安健康", service="住院协助")).kind != "eligibility"


def test_relatives_count_is_the_tiers_row_for_designated_family(kb):
    rep = answer(kb, "太保蓝本2023尊享版2档，家人一年能用几次重疾陪诊？")
    assert "1次/年" in rep.text and "直系亲属" in rep.text, rep.text
    assert "1次/年" not in answer(kb, "太保蓝本2023尊享版3档的重疾陪诊一年几次？").text


def test_asking_to_move_a_booked_service_gets_the_rule_on_changes(kb):
    rep = answer(kb, "尊享e生PLUS的重疾绿通已经帮我约好住院了，能不能改到下个月？")
    assert "不允许改期" in rep.text and rep.kind == "fact", rep.text


def test_a_number_asked_for_that_the_clause_does_not_state_is_not_invented(kb):
    rep = answer(kb, "太保蓝本2020版线上购药的优惠券一张面额多少？")
    assert rep.kind == "not_in_manual" and "手册里没有写" in rep.text, rep.text
    rep = answer(kb, "众安的医疗垫付一次住院最多能垫多少？")  # stated: the number first
    assert rep.kind == "fact" and "10" in rep.text, rep.text


def test_a_designated_relative_with_uses_left_may_use_it_and_the_window_counts_from_designation(kb):
    rep = answer(kb, "蓝本2023尊享版3档，我儿子是指定家人，他今年已经用了2次重疾陪诊，还能再用吗？")
    assert "可以使用" in rep.text and "还可使用 3 次" in rep.text, rep.text  # a minor's guardian is a note
    rep = answer(kb, "蓝本2023尊享版2档，我妈被我指定为家人已经4年了，她现在还能用重疾陪诊吗？")
    assert "不能使用" in rep.text and "3 年" in rep.text, rep.text
    assert "未成年人" not in rep.text


def test_an_edition_named_is_not_the_service_that_shares_its_name(kb):
    rep = answer(kb, "太保蓝本无忧管家：要去外地大医院看病，接送和住宿都不知道怎么弄")
    assert "异地就医" in rep.text and "无忧管家全程服务" not in rep.text.split("\n")[0], rep.text


def test_an_add_on_said_to_be_bought_meets_the_services_add_on_condition(kb):
    rep = answer(kb, "尊享e生PLUS买了一年多，带了门急诊加油包，能申请门诊陪诊吗？")
    assert "不能使用" not in rep.text, rep.text
    rep = answer(kb, "尊享e生PLUS买了一年多，没买门急诊加油包，能申请门诊陪诊吗？")
    assert "不能使用" in rep.text, rep.text


def test_a_family_policy_said_shares_its_uses_among_the_insured(kb):
    rep = answer(kb, "我们是平安健康的家庭单，买了大半年，这个保单年度我老公用过一次就医陪诊了，儿子还能约吗？")
    assert "不能使用" in rep.text and "共享" in rep.text, rep.text


def test_the_family_of_an_edition_without_a_service_named_gets_the_tiers_row(kb):
    rep = answer(kb, "太保蓝本2023版尊享版2档，家里人也能用吗？最多能加几个家人？")
    assert "指定3名直系亲属" in rep.text and "1次/年" in rep.text, rep.text


# -- round seven: honesty on quantities, stated spans, situations a product has no service for ----
@pytest.mark.parametrize("q,must", [
    ("众安尊享e生PLUS的基因检测一次能查多少种基因？", "没有写"),   # a count the manual never states
    ("太保蓝本普惠版多大年龄能参加？", "没有写"),                     # an age the clause leaves to 'requirements'
    ("平安的住院垫付会收利息吗？", "利息"),                           # a fee the manual never names
])
def test_a_number_or_fee_the_clause_does_not_state_is_said_to_be_unstated(kb, q, must):
    rep = answer(kb, q)
    assert rep.kind == "not_in_manual" and must in rep.text


def test_a_fee_word_is_not_a_renewal_and_giving_materials_is_not_a_fee(kb):
    from assist.understand import read

    assert not read(kb, "众安的医疗垫付有没有手续费").facts.renewal
    rep = answer(kb, "太保妇科复发险门诊绿通要提交哪些材料")
    assert rep.kind == "fact" and "诊断材料" in rep.text


def test_spans_with_a_half_and_days_of_effect_decide(kb):
    rep = answer(kb, "平安健康，我爸出院一个半月了，康复随访还能申请吗")
    assert rep.kind == "eligibility" and "1个月内" in rep.text and "不能" in rep.text
    rep = answer(kb, "太保妇科癌症复发险生效的第5天，COC肿瘤随访能用吗")
    assert "不能" in rep.text and "犹豫期" in rep.text


def test_a_booking_further_ahead_than_the_manual_allows_is_refused(kb):
    rep = answer(kb, "尊享e生PLUS的术后上门护理，我想现在约20天以后的，可以吗")
    assert "不能" in rep.text and "7日内" in rep.text


def test_someone_using_my_service_is_not_the_insured(kb):
    rep = answer(kb, "平安健康是我买的，我老婆想用我的就医陪诊，行吗")
    assert rep.kind == "eligibility" and "不能" in rep.text and "被保险人" in rep.text


def test_a_situation_the_product_has_no_service_for_says_so(kb):
    rep = answer(kb, "平安健康，我爸在家躺着，想请护士到家里帮他换药")
    assert rep.kind == "not_in_manual" and "没有找到" in rep.text and "就医陪诊" in rep.text


def test_a_county_note_on_a_city_row_lists_only_those_places(kb):
    rep = answer(kb, "平安的7天住院陪护在蒙自能用吗")
    assert rep.kind == "coverage" and "不在" in rep.text and "个旧市" in rep.text
    rep = answer(kb, "平安的7天住院陪护在开远能用吗")
    assert "不在" not in rep.text.split("\n")[0]


def test_a_thing_the_manual_never_mentions_is_not_said_to_count(kb):
    rep = answer(kb, "太保妇科癌症复发险，输卵管癌复发算不算？")
    assert rep.kind == "not_in_manual" and "输卵管癌" in rep.text
    rep = answer(kb, "太保妇科癌症复发险续保的话，等待期要重新算吗")
    assert "没有提到" not in rep.text  # '要重新算吗' is no thing asked about


def test_a_relative_asked_about_gets_the_services_beneficiary_rule(kb):
    rep = answer(kb, "尊享e生PLUS的院内陪护，我爸也算吗")
    assert rep.kind == "eligibility" and "被保险人" in rep.text


def test_the_insurers_products_that_share_a_service_are_each_answered(kb):
    rep = answer(kb, "众安的重疾绿通多久能安排好？")
    assert "尊享e生" in rep.text and "众安健康险增值服务" in rep.text
    assert {s.manual_id[:3] for s in rep.sources} == {"001", "003"}


def test_an_outpatient_is_told_an_inpatient_service_is_not_for_them(kb):
    rep = answer(kb, "平安健康的住院垫付，我就是看个门诊，能用吗")
    assert rep.kind == "eligibility" and "不能" in rep.text and "住院" in rep.text


def test_the_customers_word_finds_the_manuals_term_and_its_own_number(kb):
    rep = answer(kb, "众安健康险增值服务的术后家庭护理，重疾手术以后能上门几次")
    assert "6 次" in rep.text or "6次" in rep.text
    rep = answer(kb, "众安健康险增值服务的术后家庭护理，一般的手术能上门几次")
    assert "两次" in rep.text


def test_nothing_used_yet_counts_as_no_uses(kb):
    from assist.understand import read

    assert read(kb, "平安健康的门诊协助，我们家还没用过，能用吗").facts.uses == 0
    rep = answer(kb, "平安健康的门诊协助，保单买了一年多了，今年一次都没用，我自己能用吗")
    assert "已使用 0 次" in rep.text


def test_eligibility_naming_only_an_insurer_with_two_products_gets_each_verdict(kb):
    rep = answer(kb, "众安的重疾绿通，医生说疑似胃癌还没确诊，能申请吗")
    assert "尊享e生" in rep.text and "众安健康险增值服务" in rep.text and rep.text.count("查我的保单") == 1


def test_a_condition_naming_a_specialty_is_failed_by_another_specialtys_operation(kb):
    rep = answer(kb, "尊享e生PLUS的线上康复，我刚做了痔疮手术，能申请吗")
    assert rep.kind == "eligibility" and "骨科" in rep.text and "不能" in rep.text
    rep = answer(kb, "尊享e生PLUS的线上康复，我刚做了膝关节手术，能申请吗")
    assert "不属于骨科" not in rep.text


def test_more_days_asked_past_the_cap_in_days_are_refused(kb):
    rep = answer(kb, "尊享e生PLUS的院内陪护，今年已经用了20天，这次想再用15天，行吗")
    assert "不能" in rep.text and "30" in rep.text, rep.text
    assert not numbers_uncited(kb, rep, "已经用了20天，这次想再用15天")


def _then(kb, first: str, then: str):
    """The reply to `then` asked right after `first` (the chat passes the earlier message as context)."""
    r0 = answer(kb, first)
    return answer(kb, then, Context(insurer=r0.remember.get("insurer"), product=r0.remember.get("product"),
                                    service=r0.remember.get("service"), last_kind=r0.kind, earlier=first))


def test_a_follow_up_changing_one_fact_is_the_same_eligibility_question(kb):
    first = "众安的术后家庭护理，我做了胆囊手术，出院一周了还能约吗"
    rep = _then(kb, first, "要是出院一个月了呢")
    assert rep.kind == "eligibility" and "不能" in rep.text and "15" in rep.text, rep.text


def test_a_labelled_case_applies_only_to_its_own_case(kb):
    # 一般住院手术: 出院后15天内 / 重大疾病住院手术: 出院后一年内; the customer's case is the second
    rep = _then(kb, "众安的术后家庭护理，我做了胆囊手术，出院一周了还能约吗", "那如果是重疾手术，出院40天了呢")
    assert rep.kind == "eligibility" and "重大疾病住院手术" in rep.text and "超过" not in rep.text, rep.text
    rep = answer(kb, "众安的术后家庭护理，我做的不是重疾手术，是普通的疝气手术，出院一个月了，还能约吗")
    assert "超过" in rep.text, rep.text


def test_a_relatives_use_does_not_count_on_separate_policies(kb):
    first = "我们全家在平安健康是一张家庭单，我儿子上个月用过一次就医陪诊，我还能用吗"
    assert "不能" in answer(kb, first).text
    rep = _then(kb, first, "要是各自单独买的呢")
    assert "可以使用" in rep.text and "已使用 0 次" in rep.text, rep.text


def test_the_speaker_as_the_insured_rules_out_the_relative(kb):
    rep = answer(kb, "众安尊享e生PLUS的院内陪护，我妈住院能用吗？被保险人是我本人")
    assert rep.kind == "eligibility" and "不能" in rep.text, rep.text


def test_hotline_hours_asked_get_the_line_with_its_hours(kb):
    rep = answer(kb, "尊享e生PLUS的热线几点能打通")
    assert rep.kind == "contact" and "8:00" in rep.text and "22:00" in rep.text, rep.text


def test_a_need_stated_with_the_diagnosis_is_a_recommendation(kb):
    rep = answer(kb, "众安：我妈确诊胃癌要住院化疗，住院期间需要有人全天照顾起居")
    assert rep.kind == "recommend" and "陪护" in rep.text, rep.text


def test_category_first_does_it_include_a_member_the_manual_never_names(kb):
    rep = answer(kb, "太保妇科癌症复发险的特定妇科癌症包括不包括输卵管癌")
    assert rep.kind == "not_in_manual" and "“输卵管癌”" in rep.text, rep.text


def test_does_my_tier_have_the_service_reads_the_tier_row(kb):
    rep = answer(kb, "太保蓝本2020版一档有多学科会诊吗")
    assert "不包含" in rep.text and "一档" in rep.text, rep.text
    rep = answer(kb, "太保蓝本2020版二档包含多学科会诊吗")
    assert "不包含" not in rep.text and "二档" in rep.text, rep.text


def test_a_rule_is_quoted_with_the_item_it_finishes_and_its_sibling_items(kb):
    rep = answer(kb, "平安健康肿瘤多学科会诊，取消预约有什么规定")
    assert "最多 2 次" in rep.text and "爽约" in rep.text and "24 小时以内" in rep.text, rep.text
    assert not numbers_uncited(kb, rep, "")


def test_a_duration_in_another_unit_than_asked_does_not_answer(kb):
    rep = answer(kb, "太保蓝本的陪诊服务，陪诊员一次可以陪多少个小时")
    assert "一年" not in rep.text.split("手册原文")[0] and "没有写" in rep.text, rep.text


def test_words_only_one_products_manual_uses_decide_the_product(kb):
    rep = answer(kb, "众安互联网医院的重疾绿通，申请以后要等几个工作日安排？")
    assert "规定分别是" not in rep.text and "5个工作日" in rep.text and "7个工作日" not in rep.text, rep.text
    rep = answer(kb, "众安的重疾绿通，申请以后要等几个工作日安排？")
    assert "规定分别是" in rep.text


def test_a_situation_word_said_with_words_inside_it_still_counts(kb):
    rep = answer(kb, "平安健康：我爸下周住院做手术，我们子女都没法每天去医院陪，有什么服务能帮上？")
    assert rep.kind == "recommend" and "陪护" in rep.text.split("\n")[1], rep.text


def test_a_county_under_a_listed_city_is_out_when_the_service_covers_districts_only(kb):
    rep = answer(kb, "众安的术后家庭护理，我家在兰州下面的永登县，能上门吗")
    assert rep.kind == "coverage" and rep.text.startswith("永登县不在") and "市区" in rep.text, rep.text
    assert "范围内" in answer(kb, "众安的术后家庭护理，兰州市区能上门吗").text


def test_a_ward_question_is_not_a_diagnosis_and_an_excluded_ward_is_refused(kb):
    rep = answer(kb, "平安健康的7天住院陪护，什么样的病房可以用")
    assert "普通病房" in rep.text, rep.text
    rep = answer(kb, "平安健康7天住院陪护，我妈在icu能用吗")
    assert rep.kind == "eligibility" and "不能" in rep.text, rep.text


def test_how_a_use_is_counted_is_its_own_question(kb):
    rep = answer(kb, "尊享e生PLUS的术后上门护理，护士来一次既打针又换药，这样记几次")
    assert "记为多次使用" in rep.text, rep.text
    assert "次数" in answer(kb, "平安健康的门诊协助一年能用几次").text


def test_an_alias_said_without_its_trailing_service_word_names_the_service(kb):
    rep = answer(kb, "尊享e生PLUS的院外特药直付在全国多少个城市有")
    assert "208" in rep.text and not numbers_uncited(kb, rep, ""), rep.text


def test_a_fact_asked_of_the_one_service_a_situation_fits(kb):
    rep = answer(kb, "尊享e生PLUS，护士上门换药，一趟能换几处伤口")
    assert rep.kind == "fact" and "三个部位" in rep.text, rep.text


# -- round eight: rules quoted whole, general rules, exclusions, short lists --------------------------
@pytest.mark.parametrize("q,must,must_not", [
    ("我的太保蓝本权益想送给同事用，可以转吗", ["不可转让"], ["没有写"]),  # the manual's general rule
    ("平安健康的住院陪护申请好了，后来不需要了，怎么取消", ["提前一天", "视为服务已使用"], []),  # an FAQ answer whole
    ("众安的门诊挂号协助，哪些科室挂不了", ["口腔科", "产科"], []),  # 'which ones can't' asks the exclusions
    ("太保妇科癌症复发险的病理专家会诊，在南京能做吗", ["不在", "北京", "上海"], []),  # a short list named
    ("太平洋健康那个复发险的权益从哪里进去申请", ["健康增值服务"], []),  # the step most services share
    ("众安的癌症早筛，预约的体检日期已经过了我没去，怎么重新约", ["400-6762-960"], ["未过期"]),  # the case said
    ("众安的癌症早筛，预约的体检日期还没到，想改时间怎么办", ["未过期"], []),
])
def test_round_eight_answers_state_what_the_manual_says(kb, q, must, must_not):
    rep = answer(kb, q)
    assert all(m in rep.text for m in must) and not any(m in rep.text for m in must_not), rep.text


def test_a_follow_up_after_an_exclusion_names_another_item_of_its_kind(kb):
    first = answer(kb, "众安健康险增值服务的门诊挂号协助能帮忙挂产科的号吗")
    assert first.kind == "fact" and first.text.startswith("不可以") and first.aspect == "excluded"
    ctx = Context(insurer=first.remember.get("insurer"), product=first.remember.get("product"),
                  service=first.remember.get("service"), last_kind=first.kind, last_aspect=first.aspect)
    rep = answer(kb, "那皮肤科呢", ctx)
    assert rep.text.startswith("可以使用") and "皮肤科不在其中" in rep.text, rep.text
    rep = answer(kb, "那急诊呢", ctx)
    assert rep.text.startswith("不可以"), rep.text


def test_an_editions_validity_holds_when_its_tier_is_not_said(kb):
    from assist.qa import Context

    st_engine = kb.engine
    from actions.common import stores

    pol = stores().policies
    rep = answer(kb, "太保蓝本2020版医疗特权，五年前达标的，没做过升级，还能用专家预约吗", Context(), engine=st_engine,
                 policies=pol)
    assert rep.kind == "eligibility" and "不能使用" in rep.text and "3 年" in rep.text, rep.text
    first = answer(kb, "平安健康险的7天住院陪护，生孩子住院能用吗", Context(), engine=st_engine, policies=pol)
    assert "不能使用" in first.text
    ctx = Context(insurer=first.remember.get("insurer"), product=first.remember.get("product"),
                  service=first.remember.get("service"), last_kind=first.kind,
                  earlier="平安健康险的7天住院陪护，生孩子住院能用吗")
    rep = answer(kb, "那如果是胆囊炎开刀住院呢", ctx, engine=st_engine, policies=pol)
    assert "怀孕" not in rep.text, rep.text  # the new cause of the stay replaces childbirth


def test_a_changed_case_names_an_excluded_ward_or_another_service_used(kb):
    from actions.common import stores

    pol = stores().policies
    first_q = "平安的7天住院陪护，我爸因为肺炎住在普通病房，能用吗？"
    first = answer(kb, first_q, Context(), engine=kb.engine, policies=pol)
    assert "怀孕" not in first.text  # an illness is the reason of the stay
    ctx = Context(insurer=first.remember.get("insurer"), product=first.remember.get("product"),
                  service=first.remember.get("service"), last_kind=first.kind, earlier=first_q)
    rep = answer(kb, "要是转到重症监护室了呢？", ctx, engine=kb.engine, policies=pol)
    assert "不能使用" in rep.text, rep.text
    q = "平安健康险家庭单，我和我爸都是被保险人。我爸这个保单年度已经用过一次门诊协助了，我还能约门诊协助吗？"
    first = answer(kb, q, Context(), engine=kb.engine, policies=pol)
    assert "不能使用" in first.text
    ctx = Context(insurer=first.remember.get("insurer"), product=first.remember.get("product"),
                  service=first.remember.get("service"), last_kind=first.kind, earlier=q)
    rep = answer(kb, "那如果他用的是出院交通呢？我还能约吗？", ctx, engine=kb.engine, policies=pol)
    assert "可以使用" in rep.text and "已使用 0 次" in rep.text, rep.text


def test_a_hospital_said_by_sound_is_found_and_a_listed_spelling_is_checked(kb):
    from assist.names import hospital_by_sound

    assert hospital_by_sound(kb, "北京鞋和医院下周三") == "北京协和医院下周三"  # a transcript's sound-alike
    assert hospital_by_sound(kb, "我下周三去医院") == "我下周三去医院"
    rep = answer(kb, "众安的门诊挂号协助，浙江杭州的邵逸夫医院在不在名单上")  # the list's own spelling of it
    assert rep.kind == "coverage" and "邵逸夫医院在门诊挂号协助的服务医院清单内" in rep.text, rep.text


def test_days_since_buying_said_after_the_product_name_and_a_short_city_list(kb):
    from actions.common import stores

    rep = answer(kb, "我买的平安健康险才12天，门诊协助现在能用吗", Context(), engine=kb.engine,
                 policies=stores().policies)
    assert rep.kind == "eligibility" and "不能使用" in rep.text and "30天等待期" in rep.text, rep.text
    rep = answer(kb, "太保健康复发险的病理专家会诊，在武汉能做吗")
    assert "手册列出的服务城市只有：北京、上海、广州" in rep.text, rep.text
    rep = answer(kb, "尊享e生PLUS的院内陪护在西安能用吗")  # the list names provinces (陕西省) as well as cities
    assert "只有" not in rep.text, rep.text
    rep = answer(kb, "太保蓝本2022版尊享版2档，能指定几位家人一起用？")
    assert "3名" in rep.text, rep.text


def test_choosing_a_particular_one_hours_beside_the_number_and_a_relative_using_the_phone_service(kb):
    rep = answer(kb, "太保蓝本的专家预约能指定具体哪位专家吗")
    assert rep.text.startswith("不可以"), rep.text
    rep = answer(kb, "众安增值服务的客服电话几点有人接")
    assert "10109955" in rep.text and "9:00-21:00" in rep.text, rep.text
    ctx = Context(insurer="太保健康", product="太保互联网特定妇科癌症复发医疗保险", service="肿瘤心理咨询",
                  last_kind="fact", last_aspect="count")
    rep = answer(kb, "我女儿能打这个电话做咨询吗", ctx)
    assert rep.kind != "contact", rep.text


def test_where_a_service_is_offered_asked_without_a_place(kb):
    rep = answer(kb, "平安的住院协助在哪些城市能用")  # a city list: its cities, how many
    assert rep.kind == "coverage" and "334 个城市" in rep.text and "合肥" in rep.text, rep.text
    rep = answer(kb, "众安的门诊挂号协助覆盖哪些地方")  # a hospital list
    assert rep.kind == "coverage" and "服务医院名单" in rep.text, rep.text
    rep = answer(kb, "太保蓝本的重疾三甲专家预约能在什么城市用")  # no list: the manual's words on its reach
    assert rep.kind == "coverage" and rep.text.startswith("无法确认") and "400" in rep.text, rep.text


def test_a_recommendation_keeps_the_hospital_and_city_said_for_the_booking_that_follows(kb):
    rep = answer(kb, "妇科癌症复发，月底要到杭州的浙江省肿瘤医院住院，身边没人帮忙跑手续，太保健康复发险有什么服务？")
    assert rep.kind == "recommend"
    assert rep.remember.get("hospital") == "浙江省肿瘤医院" and rep.remember.get("city") == "杭州"


def test_a_day_before_a_word_of_service_is_not_a_place(kb):
    from knowledge import geo

    assert geo.find_cities("生孩子那天门诊陪诊的人能进去吗") == []
    assert [r.city.name for _a, _b, r in geo.find_cities("我在湖北天门市门诊")] == ["天门市"]


def test_a_date_is_not_a_length_and_a_general_clause_about_another_service_is_not_this_ones(kb):
    rep = answer(kb, "众安的医疗垫付最长垫多久")
    assert rep.kind == "not_in_manual" and "2022" not in rep.text and "24小时" not in rep.text, rep.text


def test_a_short_city_list_is_named_whole_when_the_city_is_not_on_it(kb):
    rep = answer(kb, "太保健康妇科复发险的肿瘤MDT在杭州可以做吗？")
    assert rep.kind == "coverage" and all(c in rep.text for c in ("北京", "上海", "广州")), rep.text


def test_a_top_grade_hospital_said_meets_a_public_hospital_condition(kb):
    rep = answer(kb, "省里一家三甲医院的医生怀疑是胃癌，还没确诊，蓝本2023专业版的重疾三甲专家预约能申请吗？")
    assert rep.text.startswith("按您说的情况，可以使用重疾三甲专家预约"), rep.text
    rep = answer(kb, "民营医院怀疑是胃癌，蓝本2023专业版的重疾三甲专家预约能申请吗？")
    assert not rep.text.startswith("按您说的情况，可以使用"), rep.text


def test_an_age_or_waiting_length_the_clause_does_not_state_is_told_as_unsaid(kb):
    rep = answer(kb, "蓝本普惠版有年龄限制吗，70岁的老人能加入吗")
    assert rep.kind == "not_in_manual" and "年龄" in rep.text, rep.text
    rep = answer(kb, "尊享e生PLUS这款产品的等待期有多少天？")
    assert rep.kind == "not_in_manual" and "30 天" not in rep.text, rep.text


def test_a_waiting_length_the_rules_read_from_the_manual_is_answered(kb):
    rep = answer(kb, "平安健康的门诊协助等待期多少天")
    assert rep.kind == "fact" and "30 天" in rep.text and not numbers_uncited(kb, rep, ""), rep.text


def test_a_clause_stating_what_happens_in_the_case_described_decides(kb):
    rep = answer(kb, "众安增值服务的重疾绿通，先按疑似重疾申请，专家门诊确诊不是重疾的话，后面还会安排手术吗？")
    assert "不能" in rep.text.splitlines()[0] and "不再安排" in rep.text, rep.text


def test_the_stay_said_meets_or_fails_the_stay_a_service_requires(kb):
    q = "平安健康险的被保险人是我女儿，等待期早就过了，她阑尾炎住院已经3天，住院探视能申请吗？"
    rep = answer(kb, q)
    assert "住院 3 天，符合" in rep.text and "您女儿是被保险人" in rep.text, rep.text
    rep = answer(kb, "那要是她只住院1天呢？", Context(last_kind="eligibility", earlier=q, service="住院探视",
                                                   insurer="平安健康"))
    assert rep.text.startswith("按手册的规定，这种情况不能使用住院探视") and "2 天及以上" in rep.text, rep.text


def test_a_validity_or_a_qualification_is_not_how_long_one_use_lasts(kb):
    rep = answer(kb, "众安互联网医院图文咨询每次可以聊多长时间？")
    assert rep.kind == "not_in_manual" and "一年" not in rep.text and "五年" not in rep.text, rep.text


def test_a_relative_said_not_to_be_insured_is_not(kb):
    from assist.facts import read_facts

    assert read_facts("我爸能不能用？他和我一起住，不过不是被保险人。").insured is False


def test_a_count_asked_after_the_waiting_period_is_not_a_question_about_its_length(kb):
    rep = answer(kb, "尊享e生PLUS的门诊陪诊，如果买了门急诊保险金，也过了等待期呢？一年能用几次？")
    assert "3次/年" in rep.text and "等待期的天数" not in rep.text, rep.text


def test_buying_the_policy_itself_is_not_in_a_service_manual(kb):
    rep = answer(kb, "太保蓝本多大年纪还可以投保？")
    assert rep.kind == "not_in_manual" and "投保" in rep.text and rep.handoff, rep.text


def test_is_this_hospital_a_designated_one_is_a_coverage_question(kb):
    rep = answer(kb, "尊享e生PLUS国际进口特药，港怡医院是不是指定医院？")
    assert rep.kind == "coverage" and "港怡医院在" in rep.text, rep.text


def test_a_county_said_after_its_prefecture_is_the_place_answered(kb):
    rep = answer(kb, "我在江苏徐州沛县住院，平安的住院探视可以安排吗")
    assert rep.kind == "coverage" and rep.text.startswith("沛县"), rep.text


def test_not_recurred_fails_a_service_for_a_confirmed_recurrence(kb):
    rep = answer(kb, "卵巢癌治疗后一直没复发，太保健康复发险买了一年了，肿瘤心理咨询可以用吗？")
    assert rep.text.startswith("按手册的规定，这种情况不能使用肿瘤心理咨询"), rep.text


def test_a_service_delivered_in_a_few_named_cities_answers_for_the_others(kb):
    rep = answer(kb, "尊享e生PLUS的重疾MDT会诊，人在武汉，可以在武汉做吗？")
    assert rep.kind == "coverage" and rep.text.startswith("武汉不在") and "北京、上海、广州" in rep.text, rep.text
    rep = answer(kb, "尊享e生PLUS的重疾MDT会诊在上海能做吗？")
    assert rep.text.startswith("上海在"), rep.text
    rep = answer(kb, "众安癌症早筛在上海有哪些体检点可以去")
    assert "晋城" not in rep.text, rep.text  # a row of a city table is not where a service is delivered


def test_can_it_be_done_in_a_city_is_a_coverage_question(kb):
    ctx = Context(insurer="众安", product="尊享e生·中高端医疗保险PLUS", service="重疾多学科会诊MDT服务",
                  last_kind="fact", last_aspect="count")
    assert answer(kb, "MDT能在西安做吗？", ctx).kind == "coverage"


def test_a_clause_bounded_by_an_amount_the_customer_exceeds_is_not_the_answer(kb):
    rep = answer(kb, "平安的出院交通，我家距离住院医院大约350公里，可以怎么安排？")
    assert "200 公里以上" in rep.text and "一名家属" in rep.text, rep.text
    rep = answer(kb, "平安出院交通，家离医院150公里，怎么安排？")
    assert "200 公里以内" in rep.text, rep.text


def test_a_faq_answer_quoted_with_its_question_gives_the_no(kb):
    rep = answer(kb, "出院交通我们自己开车回去的话，平安能给补贴吗")
    assert rep.text.startswith("不可以。") and "不能现金补贴" in rep.text, rep.text


def test_the_speaker_asking_for_themself_after_a_relatives_use_and_separate_policies(kb):
    first = "平安健康家庭共享单，我老公这个保单年度已经约过一次就医陪诊，我自己还能再约吗？"
    rep = answer(kb, first)
    assert rep.text.startswith("按手册的规定，这种情况不能使用就医陪诊"), rep.text
    rep = answer(kb, "那要是我和我老公分开投保、各一张保单呢？已经过了等待期。",
                 Context(insurer="平安健康", service="就医陪诊", last_kind="eligibility", earlier=first))
    assert rep.text.startswith("按您说的情况，可以使用就医陪诊"), rep.text
