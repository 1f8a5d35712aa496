"""Manual 000: 平安健康保险 服务手册 (layout pingan_handbook).

Expected values below were read from knowledge/manuals/000_0cd53a263ec9ebf5.txt by hand;
list sizes were counted with shell tools, independently of the adapter (commands in comments).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import make_engine
from knowledge import models as m
from knowledge.ingest import build
from knowledge.ingest.adapters import pingan_handbook as P
from knowledge.ingest.text import ManualText, squash

MANUAL = Path(__file__).resolve().parents[1] / "knowledge/manuals/000_0cd53a263ec9ebf5.txt"


@pytest.fixture(scope="module")
def s(kb_only):
    with Session(kb_only("000")) as session:
        yield session


@pytest.fixture(scope="module")
def text():
    return ManualText.load(MANUAL)


def svc(s, name) -> m.Service:
    return s.scalar(select(m.Service).where(m.Service.name == name))


def facts(s, service, attribute):
    return s.scalars(select(m.ServiceFact).where(m.ServiceFact.service_id == service.id,
                                                 m.ServiceFact.attribute == attribute)).all()


def city_list(s, name) -> m.CoverageList:
    return s.scalar(select(m.CoverageList).where(m.CoverageList.name == name))


# ---- services -----------------------------------------------------------------------

def test_twelve_services_in_manual_order(s):
    names = [v.name for v in s.scalars(select(m.Service).order_by(m.Service.line_start))]
    assert names == ["门诊协助", "国内第二诊疗", "就医陪诊", "肿瘤多学科会诊", "住院协助", "7 天住院陪护",
                     "住院垫付", "住院探视", "出院交通安排", "康复随访", "药品服务", "活力 GO"]


def test_unit_six_is_not_subsection_6_7(s):
    # "6.7 天住院陪护" (line 750) is unit 6 by sequential numbering, not a sub-section of unit 6
    v = svc(s, "7 天住院陪护")
    assert v.line_start == 750 and v.category == "inpatient_care"


def test_drug_section_local_numbering_makes_no_services(s):
    # "1.服务内容" (line 1894) restarts numbering inside 11.药品服务: no service called 服务内容
    assert svc(s, "服务内容") is None
    assert svc(s, "药品服务").line_end == 2094


def test_aliases_and_categories(s):
    assert {"二诊", "国内二诊", "国内专家二诊咨询"} <= set(svc(s, "国内第二诊疗").aliases)
    assert "MDT" in svc(s, "肿瘤多学科会诊").aliases
    assert "门诊陪诊" in svc(s, "就医陪诊").aliases
    assert "入院探访" in svc(s, "住院探视").aliases
    assert {"特药", "外购药"} <= set(svc(s, "药品服务").aliases)
    assert svc(s, "国内第二诊疗").category == "second_opinion"
    assert svc(s, "肿瘤多学科会诊").category == "mdt"
    assert svc(s, "住院垫付").category == "advance_payment"
    assert svc(s, "出院交通安排").category == "transport"


def test_waiting_period_from_the_rules_at_the_top(s):
    # line 27: 等待期：本合同生效日起 30 内（含第 30 天）为等待期，活力 GO 服务无等待期。转保无服务等待期。
    for v in s.scalars(select(m.Service)):
        lines = {(f.line_start, f.line_end) for f in facts(s, v, "waiting_period")}
        assert (27, 29) in lines, v.name
        if v.name == "活力 GO":
            assert v.waiting_kind == "none" and v.waiting_waivers == []
        else:
            assert (v.waiting_kind, v.waiting_days) == ("days", 30), v.name
            assert v.waiting_waivers == ["transfer"]
            assert (13, 15) in lines  # 服务等待期与保险责任等待期一致 (notice)
    # the service's own sentence is kept too: 8.2 申请条件 4）…（等待期与主险一致）
    own = [f for f in facts(s, svc(s, "住院探视"), "waiting_period") if f.line_start == 1301]
    assert own and own[0].data == {"waiting_kind": "same_as_policy"}


def test_cooling_off_15_days(s):
    v = svc(s, "门诊协助")
    assert v.cooling_off_days == 15
    assert [(f.line_start, f.line_end) for f in facts(s, v, "cooling_off")] == [(37, 39)]


def test_family_sharing_rule_applies_to_the_five_named_services(s):
    shared = {v.name for v in s.scalars(select(m.Service).where(m.Service.beneficiary == "family_pool"))}
    assert shared == {"门诊协助", "国内第二诊疗", "就医陪诊", "住院协助", "7 天住院陪护"}
    rule = svc(s, "就医陪诊").family_rule
    assert rule["shared_with"] == "immediate_relatives" and rule["same_family_policy"] is True
    assert any(f.line_start == 31 for f in facts(s, svc(s, "就医陪诊"), "beneficiary"))
    assert svc(s, "肿瘤多学科会诊").beneficiary == "insured"  # 仅限被保险人本人使用
    assert svc(s, "住院探视").beneficiary_text == "在本合同有效期内的被保险人(已过等待期)。"


def test_usage_limits(s):
    v = svc(s, "门诊协助")
    assert (v.usage_limit, v.usage_period) == (1, "policy_year")
    assert v.usage_rule["carry_over"] is False and v.usage_rule["cancel_after_confirm_counts"] is True
    assert (svc(s, "住院探视").usage_limit, svc(s, "住院探视").usage_period) == (1, "per_stay")
    assert (svc(s, "康复随访").usage_limit, svc(s, "康复随访").usage_period) == (1, "per_stay")
    care = svc(s, "7 天住院陪护")
    assert care.usage_limit == 1 and care.usage_rule["max_days"] == 7 and care.usage_rule["max_hours_per_day"] == 24
    assert care.usage_rule["no_split"] is True
    mdt = svc(s, "肿瘤多学科会诊")
    assert mdt.usage_rule["max_changes"] == 2 and mdt.usage_rule["change_notice_hours"] == 24
    assert svc(s, "就医陪诊").usage_rule["max_hours_per_use"] == 4
    assert svc(s, "住院垫付").usage_limit is None and svc(s, "住院垫付").usage_period is None  # not stated


def test_lead_time_and_contradictions_kept(s):
    assert svc(s, "就医陪诊").lead_time_hours == 48  # line 271: 提前 48 小时提交服务申请
    care = svc(s, "7 天住院陪护")
    assert care.lead_time_hours == 12  # line 910: 客户提前 12 小时提交申请
    hours = {(f.line_start, f.data["hours"]) for f in facts(s, care, "lead_time")}
    assert (910, 12) in hours and (1006, 24) in hours  # FAQ line 1006 says 24 hours
    dis = svc(s, "出院交通安排")
    assert dis.lead_time_hours == 24
    resp = {(f.data["amount"], f.data["unit"]) for f in facts(s, dis, "response_time")}
    assert (12, "working_hours") in resp and (4, "working_hours") in resp  # lines 1418 and 1430


def test_response_time_advance_payment(s):
    v = svc(s, "住院垫付")
    assert "响应时效:4 小时内" in v.response_time
    assert v.coverage_scope == "unspecified"


def test_second_opinion_needs_the_18_disease_list(s):
    v = svc(s, "国内第二诊疗")
    assert v.diagnosis_kind == "suspected_or_confirmed"
    assert v.diagnosis_list == "18种疾病清单"
    assert v.diagnosis_hospital == "二级以上(含二级)公立医院"  # 医院 definition, lines 41-47
    dl = s.scalar(select(m.DiseaseList).where(m.DiseaseList.name == v.diagnosis_list))
    names = [d.name for d in dl.diseases]
    # 18 numbered items; item 2 is printed as 2.1 and 2.2, so 19 conditions (grep -c '^[0-9].*-\|^2\.1 ')
    assert len(names) == 19
    assert names[0] == "恶性肿瘤" and names[-1] == "慢性呼吸功能衰竭终末期肺病"
    assert "重大器官移植术或造血干细胞移植术" in names  # wrapped over lines 2927-2931
    cabg = next(d for d in dl.diseases if d.name == "冠状动脉搭桥术")
    assert cabg.aliases == ["冠状动脉旁路移植术"] and cabg.line == 2892
    assert "原位癌" in dl.diseases[0].definition
    assert svc(s, "肿瘤多学科会诊").diagnosis_kind == "confirmed"
    assert svc(s, "门诊协助").diagnosis_kind is None


def test_first_diagnosis_example_rows(s):
    rows = sorted(facts(s, svc(s, "国内第二诊疗"), "first_diagnosis_example"), key=lambda f: f.line_start)
    assert [(f.line_start, f.data["eligible"]) for f in rows] == [(62, False), (64, False), (66, True)]
    assert rows[1].data["relation"] == "within_days" and rows[1].data["days"] == 30 and rows[1].data["inclusive"]
    assert rows[2].data["relation"] == "after_days" and rows[2].data["effective"] == "2024-05-01"
    rule = facts(s, svc(s, "国内第二诊疗"), "first_diagnosis_rule")
    assert [(f.line_start, f.line_end) for f in rule] == [(49, 55)]
    p = s.scalar(select(m.Passage).where(m.Passage.section.like("%示例表")))
    assert (p.line_start, p.line_end) == (57, 66)


# ---- coverage -------------------------------------------------------------------------

def test_city_lists_sizes_and_counts(s):
    # rows with 3 fields and a numeric third one:
    #   sed -n 2165,2847p FILE | awk 'NF==3 && $3 ~ /^[0-9]+$/ {c++; s+=$3} END {print c, s}'  -> 343 3213
    #   sed -n 3403,4087p FILE | awk '...'                                                 -> 344 3399
    out = city_list(s, "门诊协助服务覆盖城市清单")
    assert len(out.cities) == 343 and sum(c.hospital_count for c in out.cities) == 3213
    inp = city_list(s, "住院协助服务覆盖城市清单")
    assert len(inp.cities) == 344 and sum(c.hospital_count for c in inp.cities) == 3399
    bj = {c.raw_name: c.hospital_count for c in out.cities}
    assert bj["北京市"] == 132 and {c.raw_name: c.hospital_count for c in inp.cities}["北京市"] == 156
    # two-column escort table: tokens that are not provinces, de-duplicated:
    #   sed -n 3113,3399p FILE | tr ' ' '\n' | grep -v '^$' | grep -vE '(省|自治区)$|地级市|省份' | sort -u | wc -l
    #   -> 241, of which "延边朝鲜族自治" + "州" are one name wrapped over two lines -> 240
    esc = city_list(s, "陪诊服务覆盖城市清单")
    assert len(esc.cities) == 240


def test_services_linked_to_their_lists(s):
    def linked(name):
        cl = city_list(s, name)
        return {sc.service.name for sc in s.scalars(select(m.ServiceCoverage).where(m.ServiceCoverage.list_id == cl.id))}
    assert linked("门诊协助服务覆盖城市清单") == {"门诊协助"}
    assert linked("陪诊服务覆盖城市清单") == {"就医陪诊"}
    assert linked("住院陪护服务覆盖城市清单") == {"7 天住院陪护"}
    assert linked("住院探视及出院交通安排服务覆盖城市范围") == {"住院探视", "出院交通安排"}
    assert svc(s, "国内第二诊疗").coverage_scope == "unspecified"
    assert svc(s, "康复随访").coverage_scope == "nationwide"  # line 1702: 全国范围内均可


def test_escort_cities_covered_and_not(s):
    esc = {c.raw_name: c for c in city_list(s, "陪诊服务覆盖城市清单").cities}
    assert "合肥市" in esc and "芜湖市" not in esc  # 安徽省 has only 合肥市 in the escort table
    assert "芜湖市" in {c.raw_name for c in city_list(s, "门诊协助服务覆盖城市清单").cities}
    assert "拉萨市" not in esc
    # wrapped right-column cell, de-interleaved into the right column's province
    assert esc["延边朝鲜族自治州"].province == "吉林省" and esc["延边朝鲜族自治州"].line == 3132
    assert esc["合肥市"].province == "安徽省"
    assert "襄樊市" in esc  # old name passed as written; geo resolves renames


def test_cell_lists_keep_names_as_written(s, text):
    care = city_list(s, "住院陪护服务覆盖城市清单")
    raws = {c.raw_name for c in care.cities}
    assert {"毫州", "嘉峪关市", "延边", "公主岭"} <= raws  # typo and wrapped "嘉峪"+"关市" kept as written
    yb = next(c for c in care.cities if c.raw_name == "延边")
    assert yb.note == "延吉、图们、敦化、珲春、龙井、和龙"
    visit = city_list(s, "住院探视及出院交通安排服务覆盖城市范围")
    vr = [c.raw_name for c in visit.cities]
    assert {"张北县", "康保县", "衡南县", "城口县", "彭水苗族土家族自治县"} <= set(vr)
    assert "重庆" in vr and "月开放区域" not in vr
    # every entry occurs in the text at its line (or runs on into the next lines)
    for cl in (care, visit):
        for c in cl.cities:
            window = "".join(squash(text.line(n)) for n in range(c.line, min(c.line + 5, len(text)) + 1)
                             if not squash(text.line(n)).isdigit())  # a row count may sit mid-cell
            assert squash(c.raw_name) in window, (c.raw_name, c.line)


def test_mdt_hospitals(s):
    cl = s.scalar(select(m.CoverageList).where(m.CoverageList.kind == "hospital"))
    names = [h.raw_name for h in cl.hospitals]
    assert len(names) == 8  # lines 536-560: 4 上海, 2 北京, 1 广东, 1 南京
    assert "东莞台心医院血液病中心(南方春富(儿童)血液病研究院)" in names  # wrapped at line 555/557
    gz = next(h for h in cl.hospitals if h.raw_name.startswith("东莞"))
    assert gz.hospital.city_name == "东莞市" and "台心2号" in gz.note
    mdt = svc(s, "肿瘤多学科会诊")
    assert mdt.coverage_scope == "nationwide"  # 线上视频会诊咨询服务范围为全国 (line 423)
    assert s.scalar(select(m.ServiceCoverage).where(m.ServiceCoverage.service_id == mdt.id)) is not None


# ---- faq, contacts, passages ------------------------------------------------------------

def test_faqs(s):
    faqs = s.scalars(select(m.Faq)).all()
    # grep -cE '^\s*Q\s*[:：]' FILE -> 34; sed -n 1240,1276p FILE | grep -cE '^[0-9]+、' -> 7 (7.7 常见问题);
    # 41 questions, one of them asked word for word 3 times -> 39 stored
    assert len(faqs) == 39
    rep = [f for f in faqs if f.question.startswith("服务过程中碰到问题应该找谁反馈")]
    assert len(rep) == 1 and rep[0].service_id is None  # asked word for word under 3 services: stored once
    垫付 = [f for f in faqs if f.service_id == svc(s, "住院垫付").id]
    assert len(垫付) == 7 and 垫付[5].answer == "不可以。"


def test_contacts(s):
    cs = s.scalars(select(m.Contact)).all()
    phones = [c for c in cs if c.kind == "phone"]
    assert [c.value for c in phones] == ["95511-7"]
    assert any(c.kind == "hours" and c.value == "8:00-22:00*7 天" and c.service_id == svc(s, "住院垫付").id
               for c in cs)
    assert {c.value for c in cs if c.kind == "email"} == {"insurance@meditrusthealth.com", "luoyini758@jk.cn"}


def test_passages(s, text):
    ps = s.scalars(select(m.Passage)).all()
    assert len(ps) > 80
    for p in ps:
        assert 1 <= p.line_start <= p.line_end <= len(text)
        assert p.text.strip()
    for v in s.scalars(select(m.Service)):
        assert any(p.service_id == v.id for p in ps), v.name
    sections = {p.section for p in ps}
    assert "一、服务内容 > 12.活力 GO > 服务期限" in sections  # unnumbered sub-headings
    assert "服务手册 > 敬请注意" in sections


# ---- layout detection on synthetic input -------------------------------------------------

SYNTH = """
服务手册

开头一段没有标题的说明文字。

 一、服务内容

1.门诊协助

1.1 服务内容

客户有门诊就医需求时提供协助。

1.2 常见问答

Q：申请服务需要额外付钱吗？

A：不收取服务费用。

1.3 常见问答

Q：申请服务需要额外付钱吗？

A：不收取服务费用。
"""


def _build_synthetic(tmp_path, body: str):
    d = tmp_path / "manuals"
    d.mkdir()
    (d / "900_test.txt").write_text(body, encoding="utf-8")
    (d / "manifest.yaml").write_text(
        "manuals:\n  - file: 900_test.txt\n    insurer: 测试保险\n    product_line: 测试\n"
        "    layout: pingan_handbook\n", encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    return engine, build(engine, manuals_dir=d)


def test_repeated_section_stored_once(tmp_path):
    engine, report = _build_synthetic(tmp_path, SYNTH)
    with Session(engine) as s:
        qa = [p for p in s.scalars(select(m.Passage)) if "常见问答" in p.section]
        assert len(qa) == 1
    assert any("repeats lines" in w for w in report.warnings)


def test_untitled_text_gets_a_passage():
    t = ManualText("x", ["", "", "孤立的一段文字", "", "一、服务内容", "1.门诊协助", "内容"])
    front, parts = P.outline(t)
    assert front.title == "孤立的一段文字"  # text before any heading titles the front matter
    t2 = ManualText("x", ["一、服务内容", "1.门诊协助", "内容", "", "一、附件"])
    front2, parts2 = P.outline(t2)
    from knowledge.ingest.sections import untitled_blocks

    assert untitled_blocks(t2, [front2, *parts2], P.norm) == []


def test_bad_input_does_not_crash(tmp_path):
    engine, report = _build_synthetic(tmp_path, "")
    assert any("empty" in w for w in report.warnings)


def test_garbage_input_does_not_crash(tmp_path):
    engine, report = _build_synthetic(tmp_path, "§§§\n1.\n2.3\n二、\n" + "随便" * 1000 + "\n")
    with Session(engine) as s:
        assert s.scalars(select(m.Service)).all() == []


def test_pregnancy_is_a_named_exclusion_of_inpatient_care(kb_only):
    """Lines 1080-1084: 7 天住院陪护 不包括怀孕及分娩场景; the rules engine asks about it by that name."""
    with Session(kb_only("000")) as s:
        svc = s.scalars(select(m.Service).where(m.Service.name == "7 天住院陪护")).one()
        assert svc.diagnosis_exclusions == ["怀孕及分娩"]


@pytest.fixture(scope="module")
def kb(kb_only):
    from knowledge.query import KnowledgeBase
    return KnowledgeBase(kb_only("000"))


@pytest.mark.parametrize("name, first, last", [("门诊协助", 2164, 3110), ("住院协助", 3402, 4089)])
def test_counts_are_each_rows_own_number(kb, text, name, first, last):
    """附件1 / 附件4 print 省 市 医院数量 per row, county-level cities on rows of their own
    (成都市 83 and 崇州市 1 on lines 2708/2710). Every row, read from the text alone with
    grep -E '^\\S+ \\S+ [0-9]+$', answers with exactly its own number, never a sum."""
    import re
    (sv,) = [x for x in kb.services() if x.name == name]
    rows = [(n, mm.group(1), int(mm.group(2))) for n, s in text.iter(first, last)
            if (mm := re.match(r"^\s*\S+\s+(\S+)\s+(\d+)\s*$", s))]
    assert len(rows) == {"门诊协助": 343, "住院协助": 344}[name]
    for n, place, count in rows:
        ans = kb.coverage(sv.id, place)
        assert (ans.status, ans.hospitals_count) == ("covered", count), (n, place)
        assert n in [e.line_start for e in ans.evidence], (n, place)
    chengdu, chongzhou = kb.coverage(sv.id, "成都"), kb.coverage(sv.id, "崇州")
    assert chengdu.hospitals_count == {"门诊协助": 83, "住院协助": 84}[name] and chengdu.places == ("成都市",)
    assert (chongzhou.hospitals_count, chongzhou.places, chongzhou.via) == (1, ("崇州市",), "own_row")
    assert kb.coverage(sv.id, "四川省成都市崇州市").places == ("崇州市",)
    # a county of 成都 without a row of its own: covered through 成都's row, with 成都's number
    djy = kb.coverage(sv.id, "都江堰")
    assert (djy.status, djy.via, djy.places) == ("covered", "prefecture", ("成都市",))


def test_shuangqiao_in_the_chongqing_row_is_chongqing(s, kb):
    """住院陪护 重庆 row (line 4298) lists 双桥 (a 重庆 district until 2011), not 承德's 双桥区."""
    row = s.scalar(select(m.CoverageCity).join(m.CoverageList).where(
        m.CoverageList.name == "住院陪护服务覆盖城市清单", m.CoverageCity.raw_name == "双桥"))
    assert (row.line, row.city_name, row.province) == (4298, "重庆市", "重庆市")
    (sv,) = [x for x in kb.services() if x.name == "7 天住院陪护"]
    assert 4298 not in [e.line_start for e in kb.coverage(sv.id, "承德").evidence]


def test_fuqing_after_a_parenthesis_is_kept(s, kb, text):
    """附件6 line 4452-4453: '宁德（仅开\\n放县级市）福清市、永安市…': 福清市 follows the parenthesis directly."""
    assert "福清市" in squash(text.line(4453))
    cl = s.scalar(select(m.CoverageList).where(m.CoverageList.name == "住院探视及出院交通安排服务覆盖城市范围"))
    row = next(c for c in cl.cities if c.raw_name == "福清市")
    assert (row.line, row.city_name) == (4453, "福州市")
    (sv,) = [x for x in kb.services() if x.name == "住院探视"]
    ans = kb.coverage(sv.id, "福清")
    assert (ans.status, ans.via, ans.places) == ("covered", "own_row", ("福清市",))


def test_two_values_for_one_thing_are_two_facts(s, text):
    """住院垫付: a decision within 4 小时 (line 1230) vs a review result within 一个工作日 (FAQ, line 1250);
    康复随访: 服务时间为工作日9:00-21:00 (1647) vs 工作日 7*24 小时咨询 (1712). Both kept, each with its line."""
    adv = svc(s, "住院垫付")
    review = {(f.line_start, f.data["amount"], f.data["unit"]) for f in facts(s, adv, "review_time")}
    assert review == {(1230, 4, "hours"), (1250, 1, "working_days")}
    assert "4小时之内做出垫付结论" in text.line(1230) and "一个工作日做出审核结果" in text.line(1250)
    rehab = svc(s, "康复随访")
    hours = {(f.line_start, f.data["hours"]) for f in facts(s, rehab, "service_hours")}
    assert hours == {(1647, "9:00-21:00"), (1712, "7*24 小时")}
    assert all(f.data.get("days") == "工作日" for f in facts(s, rehab, "service_hours"))
    # the hotline's 7*24 hours (95511-7) are not a service's hours
    assert not facts(s, svc(s, "门诊协助"), "service_hours")
