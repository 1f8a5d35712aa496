"""The eligibility engine against the manuals' own wording.

Each ServiceRule here is built by hand the way the loader builds it, and each Source names
real lines of a manual: S() reads those lines and fails if they do not say what the rule
claims, so a rule cannot drift away from its manual.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from core.config import MANUALS_DIR
from knowledge.ingest.text import squash
from rules import (ELIGIBLE, NEED_INFO, NOT_ELIGIBLE, AgeRule, BeneficiaryRule, CaseFacts, CoolingOffRule,
                   CoverageResult, DesignatedMember, DiagnosisRule, EntitlementRule, PersonFacts, PolicyFacts,
                   ServiceRule, Source, UsageRule, WaitingRule, ask_zh, decide, first_diagnosis_within_term)

_FILES = {p.name[:3]: p for p in MANUALS_DIR.glob("*.txt")}


def S(manual: str, a: int, b: int, *must: str) -> Source:
    """Source of manual lines a..b; every phrase in `must` has to be in those lines."""
    path = _FILES[manual]
    lines = path.read_text(encoding="utf-8").splitlines()[a - 1:b]
    text = squash("".join(lines))
    for phrase in must:
        assert squash(phrase) in text, f"{manual} lines {a}-{b} do not say {phrase!r}: {text[:200]}"
    return Source(path.stem, a, b, text[:200])


# -- rules as the manuals state them ------------------------------------------------

# 000 平安: 就医陪诊 — 30-day waiting (effective day counts), 转保 waived, once per policy year,
# family pool of the 5 shared services, guardian for minors, city list in the appendix.
PA_ESCORT = ServiceRule(
    name="就医陪诊", manual_id="000", source=S("000", 221, 221, "就医陪诊"),
    waiting=WaitingRule("days", 30, ("transfer",), S("000", 27, 29, "本合同生效日起 30 内（含第 30 天）为等待期"),
                        S("000", 27, 29, "转保无服务等待期")),
    usage=UsageRule(1, "policy_year", "每个保险期间 1次且不可跨保单年度累计",
                    S("000", 267, 267, "每个保险期间 1次且不可跨保单年度累计")),
    beneficiary=BeneficiaryRule("family_pool", source=S("000", 31, 35, "就医陪诊", "共享人必须是直系亲属", "家庭共享单内被保")),
    guardian_source=S("000", 326, 328, "未成年人", "监护人代其申请"),
    coverage_scope="list", coverage_source=S("000", 287, 290, "200 多个直辖市"),
    validity_source=S("000", 11, 11, "有效期与保险合同有效期一致"),
)
# 000: 国内第二诊疗 — suspected or confirmed one of the 18 critical illnesses at a grade-2+ public hospital.
PA_SECOND_OPINION = ServiceRule(
    name="国内第二诊疗", manual_id="000",
    waiting=WaitingRule("days", 30, ("transfer",), S("000", 27, 29, "含第 30 天")),
    usage=UsageRule(1, "policy_year", source=S("000", 169, 169, "每个保险期间 1 次")),
    beneficiary=BeneficiaryRule("family_pool", source=S("000", 31, 35, "国内第二诊疗")),
    diagnosis=DiagnosisRule.with_hospital(
        "二级以上（含二级）公立医院", kind="suspected_or_confirmed", disease_list="18 种重疾",
        diseases=("恶性肿瘤", "深度昏迷", "双耳失聪", "双目失明", "瘫痪"), exclusions=("原位癌",),
        source=S("000", 179, 183, "疑似", "确诊", "18 种疾病"), list_source=S("000", 2850, 2852, "18 种疾病清单", "恶性肿瘤"),
        exclusion_source=S("000", 2856, 2860, "下列疾病不在保障范围内", "原位癌")),
)
# 000: 7 天住院陪护 — not for pregnancy and childbirth.
PA_INPATIENT_CARE = ServiceRule(
    name="7天住院陪护", manual_id="000",
    waiting=WaitingRule("days", 30, ("transfer",), S("000", 1079, 1079, "主险等待期后")),
    diagnosis=DiagnosisRule(kind="none", exclusions=("怀孕及分娩",), exclusion_source=S("000", 1079, 1084, "不包括怀孕及分娩场景")),
)
# 000: 住院探视 — one per hospital stay.
PA_VISIT = ServiceRule(
    name="住院探视", manual_id="000",
    waiting=WaitingRule("days", 30, (), S("000", 1301, 1301, "等待期与主险一致")),
    usage=UsageRule(1, "per_stay", source=S("000", 1289, 1289, "每次住院提供 1 次")),
    beneficiary=BeneficiaryRule("insured", source=S("000", 1287, 1287, "被保险人")),
)
# 000: 活力 GO — no waiting period.
PA_GO = ServiceRule(name="活力GO", manual_id="000", waiting=WaitingRule("none", source=S("000", 27, 27, "活力 GO 服务无等待期")))

# 001 众安 PLUS: 门诊陪诊 only with the 门急诊医疗补充加油包; renewals have no waiting.
ZA_ESCORT = ServiceRule(
    name="门诊陪诊服务", manual_id="001",
    waiting=WaitingRule("same_as_policy", None, ("renewal",), S("001", 320, 320, "首年等待期同保险产品合同规定的等待期"),
                        S("001", 320, 320, "续期服务则无等待期限定")),
    usage=UsageRule(3, "policy_year", source=S("001", 275, 275, "保单年度内提供 3次")),
    beneficiary=BeneficiaryRule("insured", source=S("001", 273, 273, "被保险人")),
    addon_required="门急诊医疗补充加油包", addon_source=S("001", 273, 273, "选购了门急诊医疗补充加油包"),
)

# 002 太保健康 gyn: COC after the 15-day cooling-off; 门诊绿通 after 90 days, 3 times per contract, insured only.
CPIC_COC = ServiceRule(
    name="COC肿瘤随访服务", manual_id="002",
    waiting=WaitingRule("after_cooling_off", source=S("002", 30, 30, "15 天犹豫期后")),
    cooling_off=CoolingOffRule(15, S("002", 104, 104, "过犹豫期后可使用")),
    usage=UsageRule(None, "unlimited", source=S("002", 105, 105, "不限次")),
    beneficiary=BeneficiaryRule("insured", source=S("002", 30, 30, "被保险人本人")),
)
CPIC_GREEN = ServiceRule(
    name="门诊绿通", manual_id="002",
    waiting=WaitingRule("days", 90, (), S("002", 31, 31, "90 天等待期后")),
    usage=UsageRule(3, "contract", source=S("002", 129, 129, "保险合同有效期内限 3 次")),
    beneficiary=BeneficiaryRule("insured", source=S("002", 392, 392, "仅限被保险人本人使用")),
    diagnosis=DiagnosisRule(kind="confirmed", disease_list="特定妇科癌症复发", source=S("002", 128, 128, "确诊特定妇科癌症复发")),
    guardian_source=S("002", 52, 52, "未成年人", "法定监护人代为申请"),
)

# 003 众安 intros: 重疾绿通 (waiting as the policy, renewal waived, suspected or confirmed, insured only);
# 医疗垫付 (accidents have no waiting); 防癌体检 (18 周岁以上); 重疾多学科会诊 (confirmed only).
ZA_GREEN = ServiceRule(
    name="重疾绿通", manual_id="003",
    waiting=WaitingRule("same_as_policy", None, ("renewal",), S("003", 15, 15, "等待期与保单一致"),
                        S("003", 53, 53, "续期服务则无等待期限定")),
    usage=UsageRule(1, "policy_year", source=S("003", 44, 44, "一个保单年度内使用一次")),
    beneficiary=BeneficiaryRule("insured", source=S("003", 17, 17, "仅限客户（被保险人）本人使用")),
    diagnosis=DiagnosisRule.with_hospital("二级或二级以上公立医院", kind="suspected_or_confirmed", disease_list="重大疾病",
                                          source=S("003", 16, 16, "确诊或诊断疑似")),
)
ZA_ADVANCE = ServiceRule(
    name="医疗垫付", manual_id="003",
    waiting=WaitingRule("same_as_policy", None, ("accident",), S("003", 1013, 1013, "等待期后（意外无等待期）")),
)
ZA_SCREEN = ServiceRule(name="防癌体检", manual_id="003",
                        waiting=WaitingRule("same_as_policy", source=S("003", 1374, 1374, "等待期与保单一致")),
                        age=AgeRule(18, None, S("003", 1378, 1378, "需满足18周岁以上")))
ZA_MDT = ServiceRule(
    name="重疾多学科会诊", manual_id="003",
    waiting=WaitingRule("same_as_policy", source=S("003", 2589, 2589, "等待期与保单一致")),
    diagnosis=DiagnosisRule(kind="confirmed", disease_list="重大疾病", source=S("003", 2590, 2590, "确诊罹患")),
)

# 004 太保蓝本: entitlements by version and tier with their validity windows (Edition.rule format).
V2023 = S("004", 60, 60, "太保蓝本（2023 版）", "交费期", "首年剔除保单犹豫期")
R_PAY = {"start": {"kind": "after_cooling_off", "days": 15}, "end": {"kind": "payment_term"}}
R_PAY_FAM = {**R_PAY, "family": {"end": {"kind": "years", "years": 3}}}
R_2019 = {"start": {"kind": "day_n_after_condition", "day": 19}, "end": {"kind": "years", "years": 3, "upgraded_years": 5}}
R_HUI = {"start": {"kind": "join_next_day"}, "end": {"kind": "calendar_year_end"}}
R_CARE = {"start": {"kind": "after_cooling_off", "days": 15}, "end": {"kind": "one_year"}}


def _ents(row_2023: Source, family: Source) -> tuple[EntitlementRule, ...]:
    return (
        EntitlementRule("太保蓝本（2023 版）", tier="专业版", usage_limit=1, usage_period="policy_year", text="1 次/年",
                        validity_rule=R_PAY, source=row_2023, validity_source=V2023),
        EntitlementRule("太保蓝本（2023 版）", tier="尊享版 2 档", usage_limit=5, usage_period="policy_year", text="5 次/年",
                        validity_rule=R_PAY_FAM, source=family, validity_source=V2023),
        EntitlementRule("太保蓝本（2019 版）", usage_limit=1, usage_period="policy_year", validity_rule=R_2019,
                        source=S("004", 66, 66, "2019 版"), validity_source=S("004", 66, 66, "第 19 天起", "为期 3 年", "升级为 5 年")),
        EntitlementRule("太保蓝本（2022 版）", tier="关爱版", usage_limit=1, usage_period="policy_year", validity_rule=R_CARE,
                        source=S("004", 62, 62, "关爱版"), validity_source=S("004", 62, 62, "保单生效后一年（不含 15 天犹豫期）")),
        EntitlementRule("太保蓝本普惠版（2023 版）", edition_kind="plan", usage_limit=1, usage_period="contract",
                        text="服务期内 1 次", validity_rule=R_HUI, source=S("004", 229, 229, "服务期内 1 次"),
                        validity_source=S("004", 70, 70, "成功加入次日至当年 12 月 31 日")),
    )


LB_ESCORT = ServiceRule(
    name="重疾陪诊服务", manual_id="004",
    waiting=WaitingRule(),  # manual 004 states no waiting period: the engine says so
    beneficiary=BeneficiaryRule("designated_family", max_designated=3, family_limit=1, family_period="policy_year",
                                source=S("004", 497, 497, "仅限被保险人本人及直系亲属使用"),
                                family_source=S("004", 101, 102, "指定3名直系亲属", "直系亲属可用服务1次/年")),
    diagnosis=DiagnosisRule.with_hospital("二级及以上公立医院", kind="suspected_or_confirmed", disease_list="重症疾病范围列表",
                                          source=S("004", 301, 301, "疑似或确诊罹患重疾")),
    entitlements=_ents(S("004", 93, 93, "重疾陪诊服务", "1 次/年"), S("004", 93, 101, "5 次/年", "指定3名直系亲属")),
    guardian_source=S("004", 499, 499, "监护人代其申请"),
)
LB_WARD = replace(
    LB_ESCORT, name="重疾三甲专家病房",
    beneficiary=replace(LB_ESCORT.beneficiary, family_excluded=True,
                        family_source=S("004", 104, 104, "共享家人可享服务不包含重疾三甲专家病房")),
)

EFF = date(2026, 3, 1)
ME = PersonFacts()
DX_OK = CaseFacts(diagnosis="confirmed", disease="恶性肿瘤", diagnosis_hospital_public=True,
                  diagnosis_hospital_grade="三级甲等", uses_this_period=0)


def P(**kw) -> PolicyFacts:
    base = dict(effective_date=EFF, is_transfer=False, is_renewal=False)
    base.update(kw)
    return PolicyFacts(**base)


def C(**kw) -> CaseFacts:
    return CaseFacts(**{"uses_this_period": 0, "city": "北京市", **kw})


CASES = [
    # id, rule, policy, person, case, today, status, missing, phrases in the text
    ("000 waiting: day 30 still waiting", PA_ESCORT, P(), ME, C(), date(2026, 3, 30), NOT_ELIGIBLE, (),
     ["您的保单于2026年3月1日生效，就医陪诊有30天等待期（含第30天），2026年3月31日起可以使用。"]),
    ("000 waiting: day 31 usable", PA_ESCORT, P(), ME, C(), date(2026, 3, 31), ELIGIBLE, (), ["2026年3月31日起可以使用"]),
    ("000 waiting: leap February", PA_ESCORT, P(effective_date=date(2024, 2, 1)), ME, C(), date(2024, 3, 1),
     NOT_ELIGIBLE, (), ["2024年3月2日起可以使用"]),
    ("000 waiting: transfer waives it", PA_ESCORT, P(is_transfer=True), ME, C(), date(2026, 3, 2), ELIGIBLE, (), ["转保"]),
    ("000 waiting: transfer unknown -> ask", PA_ESCORT, P(is_transfer=None), ME, C(), date(2026, 3, 2), NEED_INFO,
     ("policy.is_transfer",), ["如属于转保，则不受等待期限制"]),
    ("000 waiting: transfer unknown but past waiting", PA_ESCORT, P(is_transfer=None), ME, C(), date(2026, 4, 2),
     ELIGIBLE, (), []),
    ("000 no effective date", PA_ESCORT, P(effective_date=None), ME, C(), date(2026, 4, 2), NEED_INFO,
     ("policy.effective_date",), []),
    ("000 before the policy starts", PA_ESCORT, P(), ME, C(), date(2026, 2, 1), NOT_ELIGIBLE, (), ["生效前不能使用"]),
    ("000 活力GO no waiting", PA_GO, P(), ME, CaseFacts(), date(2026, 3, 2), ELIGIBLE, (), ["没有等待期"]),
    # usage per policy year (counted from the effective date, not the calendar year)
    ("000 usage: used up in policy year 1", PA_ESCORT, P(effective_date=date(2025, 3, 1)), ME, C(uses_this_period=1),
     date(2026, 2, 28), NOT_ELIGIBLE, (), ["本保单年度（2025年3月1日至2026年2月28日）", "下一保单年度（2026年3月1日起）"]),
    ("000 usage: new policy year", PA_ESCORT, P(effective_date=date(2025, 3, 1)), ME, C(uses_this_period=0),
     date(2026, 3, 1), ELIGIBLE, (), ["本保单年度（2026年3月1日至2027年2月28日）", "还可使用 1 次"]),
    ("000 usage: 1 Jan is not a new policy year", PA_ESCORT, P(effective_date=date(2025, 7, 1)), ME,
     C(uses_this_period=1), date(2026, 1, 1), NOT_ELIGIBLE, (), ["2025年7月1日至2026年6月30日"]),
    ("000 usage: uses unknown", PA_ESCORT, P(), ME, CaseFacts(), date(2026, 4, 1), NEED_INFO, ("case.uses_this_period",), []),
    # family pool (000 服务共享规则)
    ("000 pool: spouse insured on a family policy", PA_ESCORT, P(is_family_policy=True),
     PersonFacts("p2", "spouse", is_insured=True), C(), date(2026, 4, 1), ELIGIBLE, (), ["家庭共享单", "共享"]),
    ("000 pool: relative not insured", PA_ESCORT, P(is_family_policy=True), PersonFacts("p2", "parent", is_insured=False),
     C(), date(2026, 4, 1), NOT_ELIGIBLE, (), ["被保险人"]),
    ("000 pool: friend on the policy", PA_ESCORT, P(is_family_policy=True), PersonFacts("p3", "other", is_insured=True),
     C(), date(2026, 4, 1), NOT_ELIGIBLE, (), ["直系亲属"]),
    ("000 pool: shared count used up", PA_ESCORT, P(is_family_policy=True), PersonFacts("p2", "child", is_insured=True),
     C(uses_this_period=1), date(2026, 4, 1), NOT_ELIGIBLE, (), ["共享次数", "已全部用完"]),
    # minors apply through a guardian
    ("000 minor: guardian unknown", PA_ESCORT, P(), PersonFacts(birth_date=date(2015, 6, 1)), C(), date(2026, 4, 1),
     NEED_INFO, ("person.applicant_is_guardian",), ["监护人"]),
    ("000 minor: guardian applies", PA_ESCORT, P(), PersonFacts(birth_date=date(2015, 6, 1), applicant_is_guardian=True),
     C(), date(2026, 4, 1), ELIGIBLE, (), []),
    ("000 minor: not by a guardian", PA_ESCORT, P(), PersonFacts(birth_date=date(2015, 6, 1), applicant_is_guardian=False),
     C(), date(2026, 4, 1), NOT_ELIGIBLE, (), ["监护人"]),
    ("000 adult: no guardian needed", PA_ESCORT, P(), PersonFacts(birth_date=date(2000, 6, 1)), C(), date(2026, 4, 1),
     ELIGIBLE, (), []),
    # diagnosis: suspected or confirmed, grade-2+ public hospital, 18 diseases, 原位癌 excluded
    ("000 二诊: no diagnosis yet", PA_SECOND_OPINION, P(), ME, C(diagnosis="none"), date(2026, 4, 1), NOT_ELIGIBLE, (),
     ["疑似或确诊"]),
    ("000 二诊: diagnosis unknown, all facts asked at once", PA_SECOND_OPINION, P(effective_date=None), ME, CaseFacts(),
     date(2026, 4, 1), NEED_INFO, ("policy.effective_date", "case.diagnosis"), []),
    ("000 二诊: suspected at a grade-3 public hospital", PA_SECOND_OPINION, P(), ME,
     replace(DX_OK, diagnosis="suspected"), date(2026, 4, 1), ELIGIBLE, (), ["疑似", "在「18 种重疾」范围内"]),
    ("000 二诊: grade-1 hospital", PA_SECOND_OPINION, P(), ME, replace(DX_OK, diagnosis_hospital_grade="一级"),
     date(2026, 4, 1), NOT_ELIGIBLE, (), ["1级医院的诊断不符合要求"]),
    ("000 二诊: private hospital", PA_SECOND_OPINION, P(), ME, replace(DX_OK, diagnosis_hospital_public=False),
     date(2026, 4, 1), NOT_ELIGIBLE, (), ["非公立医院"]),
    ("000 二诊: hospital unknown", PA_SECOND_OPINION, P(), ME,
     replace(DX_OK, diagnosis_hospital_public=None, diagnosis_hospital_grade=None), date(2026, 4, 1), NEED_INFO,
     ("case.diagnosis_hospital_public", "case.diagnosis_hospital_grade"), []),
    ("000 二诊: 原位癌 excluded", PA_SECOND_OPINION, P(), ME, replace(DX_OK, disease="宫颈原位癌"), date(2026, 4, 1),
     NOT_ELIGIBLE, (), ["原位癌"]),
    ("000 二诊: disease not in the list -> human review", PA_SECOND_OPINION, P(), ME, replace(DX_OK, disease="感冒"),
     date(2026, 4, 1), NEED_INFO, ("review.disease_in_list",), ["核对"]),
    ("000 二诊: fail wins over need", PA_SECOND_OPINION, P(), ME,
     replace(DX_OK, diagnosis_hospital_public=False, disease=None, uses_this_period=None), date(2026, 3, 5),
     NOT_ELIGIBLE, ("case.disease", "case.uses_this_period"), ["等待期", "非公立医院"]),
    ("000 陪护: pregnancy excluded", PA_INPATIENT_CARE, P(), ME, CaseFacts(pregnancy=True), date(2026, 4, 1),
     NOT_ELIGIBLE, (), ["怀孕及分娩"]),
    ("000 陪护: ask about pregnancy", PA_INPATIENT_CARE, P(), ME, CaseFacts(), date(2026, 4, 1), NEED_INFO,
     ("case.pregnancy",), []),
    ("000 陪护: illness stay", PA_INPATIENT_CARE, P(), ME, CaseFacts(pregnancy=False), date(2026, 4, 1), ELIGIBLE, (), []),
    ("000 探视: per stay, stay unknown", PA_VISIT, P(), ME, C(), date(2026, 4, 1), NEED_INFO, ("case.stay_id",), ["每次住院"]),
    ("000 探视: this stay already visited", PA_VISIT, P(), ME, C(stay_id="S1", uses_this_period=1), date(2026, 4, 1),
     NOT_ELIGIBLE, (), ["本次住院"]),
    ("000 探视: insured only", PA_VISIT, P(), PersonFacts("p2", "spouse"), C(stay_id="S1"), date(2026, 4, 1),
     NOT_ELIGIBLE, (), ["仅限被保险人本人"]),
    # add-on cover (001)
    ("001 陪诊: add-on unknown", ZA_ESCORT, P(waiting_days=30), ME, C(), date(2026, 5, 1), NEED_INFO, ("policy.addons",),
     ["门急诊医疗补充加油包"]),
    ("001 陪诊: add-on bought (short name)", ZA_ESCORT, P(waiting_days=30, addons=("门急诊加油包",)), ME, C(),
     date(2026, 5, 1), ELIGIBLE, (), ["您已购买"]),
    ("001 陪诊: no add-on", ZA_ESCORT, P(waiting_days=30, addons=()), ME, C(), date(2026, 5, 1), NOT_ELIGIBLE, (),
     ["仅适用于购买了「门急诊医疗补充加油包」的保单"]),
    ("001 陪诊: policy waiting unknown", ZA_ESCORT, P(addons=("门急诊医疗补充加油包",)), ME, C(), date(2026, 5, 1),
     NEED_INFO, ("policy.waiting_days",), ["与保单一致"]),
    ("001 陪诊: renewal has no waiting", ZA_ESCORT, P(is_renewal=True, addons=("门急诊医疗补充加油包",)), ME, C(),
     date(2026, 3, 2), ELIGIBLE, (), ["续期"]),
    ("001 陪诊: 3 a policy year used", ZA_ESCORT, P(waiting_days=30, addons=("门急诊医疗补充加油包",)), ME,
     C(uses_this_period=3), date(2026, 5, 1), NOT_ELIGIBLE, (), ["共 3 次"]),
    # cooling-off (002 COC) and the 90-day wait (002 门诊绿通)
    ("002 COC: day 15 in cooling-off", CPIC_COC, P(), ME, CaseFacts(), date(2026, 3, 15), NOT_ELIGIBLE, (),
     ["2026年3月16日起可以使用"]),
    ("002 COC: day 16 usable, unlimited", CPIC_COC, P(), ME, CaseFacts(), date(2026, 3, 16), ELIGIBLE, (), ["不限次数"]),
    ("002 COC: from the day after receipt", CPIC_COC, P(received_date=date(2026, 2, 27)), ME, CaseFacts(),
     date(2026, 3, 15), ELIGIBLE, (), ["签收保单"]),
    ("002 绿通: day 90 still waiting", CPIC_GREEN, P(effective_date=date(2026, 1, 1)), ME, C(diagnosis="confirmed",
     disease="宫颈癌复发"), date(2026, 3, 31), NOT_ELIGIBLE, (), ["90天等待期（含第90天），2026年4月1日起可以使用"]),
    ("002 绿通: day 91", CPIC_GREEN, P(effective_date=date(2026, 1, 1)), ME, C(diagnosis="confirmed", disease="宫颈癌复发"),
     date(2026, 4, 1), ELIGIBLE, (), ["保险合同有效期内共 3 次"]),
    ("002 绿通: suspected is not enough", CPIC_GREEN, P(effective_date=date(2026, 1, 1)), ME, C(diagnosis="suspected",
     disease="宫颈癌复发"), date(2026, 4, 1), NOT_ELIGIBLE, (), ["确诊后可以申请"]),
    ("002 绿通: 3 per contract used", CPIC_GREEN, P(effective_date=date(2026, 1, 1)), ME, C(diagnosis="confirmed",
     disease="宫颈癌复发", uses_this_period=3), date(2026, 6, 1), NOT_ELIGIBLE, (), ["已全部用完"]),
    ("002 绿通: family may not use", CPIC_GREEN, P(effective_date=date(2026, 1, 1)), PersonFacts("m", "parent"),
     C(diagnosis="confirmed", disease="宫颈癌复发"), date(2026, 4, 1), NOT_ELIGIBLE, (), ["仅限被保险人本人"]),
    # 003
    ("003 绿通: renewal waives the first-year wait", ZA_GREEN, P(is_renewal=True), ME, DX_OK, date(2026, 3, 2),
     ELIGIBLE, (), ["续期"]),
    ("003 绿通: first year, policy's 90 days", ZA_GREEN, P(waiting_days=90), ME, DX_OK, date(2026, 5, 29),
     NOT_ELIGIBLE, (), ["90天等待期", "2026年5月30日起"]),
    ("003 垫付: accident has no waiting", ZA_ADVANCE, P(waiting_days=30), ME, CaseFacts(accident=True), date(2026, 3, 2),
     ELIGIBLE, (), ["意外"]),
    ("003 垫付: illness in waiting", ZA_ADVANCE, P(waiting_days=30), ME, CaseFacts(accident=False), date(2026, 3, 2),
     NOT_ELIGIBLE, (), []),
    ("003 垫付: cause unknown in waiting", ZA_ADVANCE, P(waiting_days=30), ME, CaseFacts(), date(2026, 3, 2), NEED_INFO,
     ("case.accident",), ["因意外就医"]),
    ("003 体检: 17 years old", ZA_SCREEN, P(effective_date=date(2025, 1, 1), waiting_days=30), PersonFacts(birth_date=date(2008, 3, 2)), CaseFacts(), date(2026, 3, 1),
     NOT_ELIGIBLE, (), ["需年满 18 周岁"]),
    ("003 体检: 18th birthday", ZA_SCREEN, P(effective_date=date(2025, 1, 1), waiting_days=30), PersonFacts(birth_date=date(2008, 3, 2)), CaseFacts(), date(2026, 3, 2),
     ELIGIBLE, (), []),
    ("003 体检: birth date unknown", ZA_SCREEN, P(effective_date=date(2025, 1, 1), waiting_days=30), ME, CaseFacts(), date(2026, 3, 2), NEED_INFO, ("person.birth_date",), []),
    ("003 MDT: suspected is not enough", ZA_MDT, P(waiting_days=30), ME, C(diagnosis="suspected", disease="肺癌"), date(2026, 3, 2),
     NOT_ELIGIBLE, (), ["确诊"]),
    # 004 entitlements, versions, tiers and their validity windows
    ("004: version unknown", LB_ESCORT, P(), ME, DX_OK, date(2026, 4, 1), NEED_INFO, ("policy.edition",), ["版本"]),
    ("004: tier unknown", LB_ESCORT, P(edition="2023版"), ME, DX_OK, date(2026, 4, 1), NEED_INFO, ("policy.tier",), ["档次"]),
    ("004: version without the service", LB_ESCORT, P(edition="2021 庆典版"), ME, DX_OK, date(2026, 4, 1), NOT_ELIGIBLE, (),
     ["不包含重疾陪诊服务"]),
    ("004 2023 专业版: in cooling-off", LB_ESCORT, P(edition="2023 版", tier="专业版", payment_term_years=10), ME, DX_OK,
     date(2026, 3, 15), NOT_ELIGIBLE, (), ["自2026年3月16日起"]),
    ("004 2023 专业版: in the payment term", LB_ESCORT, P(edition="2023 版", tier="专业版", payment_term_years=10), ME,
     DX_OK, date(2026, 3, 16), ELIGIBLE, (), ["2026年3月16日至2036年2月29日", "1 次/年"]),
    ("004 2023 专业版: after the payment term", LB_ESCORT, P(edition="2023 版", tier="专业版", payment_term_years=10), ME,
     DX_OK, date(2036, 3, 1), NOT_ELIGIBLE, (), ["已于2036年2月29日结束"]),
    ("004 2023 专业版: payment term unknown", LB_ESCORT, P(edition="2023 版", tier="专业版"), ME, DX_OK, date(2026, 4, 1),
     NEED_INFO, ("policy.payment_term_years",), ["交费期"]),
    ("004 2023 尊享版: 5 a year", LB_ESCORT, P(edition="2023 版", tier="尊享版2档", payment_term_years=10), ME,
     C(**{**DX_OK.__dict__, "uses_this_period": 4}), date(2026, 4, 1), ELIGIBLE, (), ["共 5 次", "还可使用 1 次"]),
    ("004 family: designated spouse, own 1 a year", LB_ESCORT, P(edition="2023 版", tier="尊享版2档", payment_term_years=10),
     PersonFacts("w", "spouse", designated_since=date(2026, 4, 1)), C(**{**DX_OK.__dict__, "uses_this_period": 1}),
     date(2026, 5, 1), NOT_ELIGIBLE, (), ["家人共 1 次"]),
    ("004 family: 3-year window ends", LB_ESCORT, P(edition="2023 版", tier="尊享版2档", payment_term_years=10),
     PersonFacts("w", "spouse", designated_since=date(2026, 4, 1)), DX_OK, date(2029, 4, 1), NOT_ELIGIBLE, (),
     ["家人的服务有效期已于2029年3月31日结束"]),
    ("004 family: last day of the window", LB_ESCORT, P(edition="2023 版", tier="尊享版2档", payment_term_years=10),
     PersonFacts("w", "spouse", designated_since=date(2026, 4, 1)), DX_OK, date(2029, 3, 31), ELIGIBLE, (), []),
    ("004 family: designation unknown", LB_ESCORT, P(edition="2023 版", tier="尊享版2档", payment_term_years=10),
     PersonFacts("w", "spouse"), DX_OK, date(2026, 5, 1), NEED_INFO, ("person.designated_since",), ["最多指定 3 名"]),
    ("004 family: fourth designated member", LB_ESCORT,
     P(edition="2023 版", tier="尊享版2档", payment_term_years=10,
       designated_family=tuple(DesignatedMember(f"m{i}", "child") for i in range(4))),
     PersonFacts("m3", "child"), DX_OK, date(2026, 5, 1), NOT_ELIGIBLE, (), ["最多指定 3 名"]),
    ("004 family: brother is not immediate", LB_ESCORT, P(edition="2023 版", tier="尊享版2档", payment_term_years=10),
     PersonFacts("b", "sibling", designated_since=date(2026, 4, 1)), DX_OK, date(2026, 5, 1), NOT_ELIGIBLE, (), ["直系亲属"]),
    ("004 family: 病房 never for family", LB_WARD, P(edition="2023 版", tier="尊享版2档", payment_term_years=10),
     PersonFacts("w", "spouse", designated_since=date(2026, 4, 1)), DX_OK, date(2026, 5, 1), NOT_ELIGIBLE, (),
     ["不在家人可享的服务范围内"]),
    ("004 2019: day 18 after the condition", LB_ESCORT, P(effective_date=date(2019, 12, 15), edition="2019 版", condition_met_date=date(2020, 1, 1)), ME,
     DX_OK, date(2020, 1, 19), NOT_ELIGIBLE, (), ["自2020年1月20日起"]),
    ("004 2019: day 19 after the condition", LB_ESCORT, P(effective_date=date(2019, 12, 15), edition="2019 版", condition_met_date=date(2020, 1, 1)), ME,
     DX_OK, date(2020, 1, 20), ELIGIBLE, (), []),
    ("004 2019: 3 years over, upgrade unknown", LB_ESCORT, P(effective_date=date(2019, 12, 15), edition="2019 版", condition_met_date=date(2020, 1, 1)), ME,
     DX_OK, date(2023, 1, 20), NEED_INFO, ("policy.upgraded",), ["升级"]),
    ("004 2019: 3 years over, not upgraded", LB_ESCORT,
     P(effective_date=date(2019, 12, 15), edition="2019 版", condition_met_date=date(2020, 1, 1), upgraded=False), ME, DX_OK, date(2023, 1, 20),
     NOT_ELIGIBLE, (), ["已于2023年1月19日结束"]),
    ("004 2019: upgraded to 5 years", LB_ESCORT, P(effective_date=date(2019, 12, 15), edition="2019 版", condition_met_date=date(2020, 1, 1), upgraded=True),
     ME, DX_OK, date(2025, 1, 19), ELIGIBLE, (), ["至2025年1月19日"]),
    ("004 2022 关爱版: one year from the effective date", LB_ESCORT, P(edition="2022版", tier="关爱版"), ME, DX_OK,
     date(2027, 3, 1), NOT_ELIGIBLE, (), ["已于2027年2月28日结束"]),
    ("004 普惠: the join day itself", LB_ESCORT, P(effective_date=None, edition="普惠版", join_date=date(2023, 6, 10)), ME, DX_OK,
     date(2023, 6, 10), NOT_ELIGIBLE, (), ["自2023年6月11日起"]),
    ("004 普惠: 31 Dec still valid", LB_ESCORT, P(effective_date=None, edition="普惠版", join_date=date(2023, 6, 10)), ME, DX_OK,
     date(2023, 12, 31), ELIGIBLE, (), ["至2023年12月31日", "服务期内 1 次"]),
    ("004 普惠: 1 Jan over", LB_ESCORT, P(effective_date=None, edition="普惠版", join_date=date(2023, 6, 10)), ME, DX_OK, date(2024, 1, 1),
     NOT_ELIGIBLE, (), ["已于2023年12月31日结束"]),
    ("004 普惠: joined on 31 Dec", LB_ESCORT, P(effective_date=None, edition="普惠版", join_date=date(2023, 12, 31)), ME, DX_OK,
     date(2024, 1, 1), NOT_ELIGIBLE, (), ["没有可用的日期"]),
    ("004 普惠: join date unknown", LB_ESCORT, P(effective_date=None, edition="普惠版"), ME, DX_OK, date(2023, 8, 1), NEED_INFO,
     ("policy.join_date",), []),
]


@pytest.mark.parametrize("name, rule, policy, person, case, today, status, missing, phrases", CASES,
                         ids=[c[0] for c in CASES])
def test_decide(name, rule, policy, person, case, today, status, missing, phrases):
    d = decide(rule, policy, person, case, today)
    text = d.text_zh()
    assert d.status == status, text
    for m in missing:
        assert m in d.missing, (d.missing, text)
    if status == NEED_INFO:
        assert d.missing and all(m in d.missing for m in missing)
    for phrase in phrases:
        assert phrase in text, text
    # every pass or fail cites the manual lines it relies on
    for r in d.reasons:
        if r.passed is not None and r.code != "coverage":
            assert r.source is not None and r.source.manual_id.startswith(rule.manual_id or ""), r


def test_need_lists_every_missing_fact_at_once():
    d = decide(ZA_ESCORT, PolicyFacts(), PersonFacts(), CaseFacts(), date(2026, 5, 1))
    assert d.status == NEED_INFO
    assert set(d.missing) == {"policy.waiting_days", "policy.effective_date", "policy.is_renewal", "policy.addons"}
    q = ask_zh(d)
    assert q.startswith("请告诉我们：") and "已购买的附加保障" in q


@pytest.mark.parametrize("coverage, scope, city, status, phrase", [
    (CoverageResult("covered", S("000", 2840, 2840, "温州市"), "温州市"), "list", "温州", ELIGIBLE, "服务范围包括温州市"),
    (CoverageResult("not_covered", S("000", 287, 290, "200 多个"), "拉萨市"), "list", "拉萨", NOT_ELIGIBLE, "拉萨市不在"),
    (CoverageResult("unknown", None, "火星"), "list", "火星", ELIGIBLE, "手册没有列出"),
    (CoverageResult("partial", S("001", 753, 753, "宜城市"), "襄阳市", places=("宜城市",)), "list", "襄阳", ELIGIBLE,
     "襄阳市只有下辖的宜城市"),
    (None, "list", None, NEED_INFO, "请告诉我们就医城市"),
    (None, "unspecified", None, ELIGIBLE, "手册没有给出"),
    (None, "nationwide", None, ELIGIBLE, "全国范围可用"),
])
def test_coverage_is_injected(coverage, scope, city, status, phrase):
    rule = replace(PA_ESCORT, coverage_scope=scope)
    d = decide(rule, P(), ME, C(city=city), date(2026, 4, 1), coverage=coverage)
    assert d.status == status and phrase in d.text_zh(), d.text_zh()
    cov = [r for r in d.reasons if r.code == "coverage"]
    assert len(cov) == 1
    if coverage is not None and coverage.status in ("unknown", "partial"):
        assert cov[0].passed is None  # unknown / partial never fails


@pytest.mark.parametrize("policy, person, case", [
    (None, None, None),
    ({"garbage": 1}, "me", 42),
    (PolicyFacts(effective_date="2026-03-01"), PersonFacts(birth_date="bad"), CaseFacts(uses_this_period="abc")),
    (PolicyFacts(effective_date="not a date", edition="x" * 100_000, addons=["门急诊加油包"]),
     PersonFacts(relation=""), CaseFacts(disease="癌" * 100_000, uses_this_period=-5)),
])
def test_bad_input_gives_a_clear_result(policy, person, case):
    for rule in (PA_ESCORT, PA_SECOND_OPINION, LB_ESCORT, ZA_ESCORT, CPIC_COC):
        d = decide(rule, policy, person, case, date(2026, 4, 1))
        assert d.status in (ELIGIBLE, NOT_ELIGIBLE, NEED_INFO)
        assert d.reasons
        if d.status == NEED_INFO:
            assert d.missing


def test_string_dates_are_read():
    d = decide(PA_ESCORT, PolicyFacts(effective_date="2026-03-01", is_transfer=False), ME, C(), "2026-03-30")
    assert d.status == NOT_ELIGIBLE and "2026年3月31日起可以使用" in d.text_zh()


def test_no_rule_asks_for_the_service():
    d = decide(None, P(), ME, C(), date(2026, 4, 1))
    assert d.status == NEED_INFO and d.missing == ("service",)


def test_manual_silent_fields_are_said_not_failed():
    rule = ServiceRule(name="某服务")
    d = decide(rule, PolicyFacts(), PersonFacts(), CaseFacts(), date(2026, 4, 1))
    assert d.status == ELIGIBLE
    text = d.text_zh()
    assert "手册未写明某服务的等待期" in text and "手册未写明某服务的使用次数" in text and "手册没有给出" in text


def test_decision_is_json_serialisable():
    import json

    d = decide(LB_ESCORT, P(edition="2023 版", tier="专业版", payment_term_years=10), ME, DX_OK, date(2026, 4, 1))
    data = json.loads(json.dumps(d.to_dict(), ensure_ascii=False, default=str))
    assert data["status"] == ELIGIBLE
    assert all("source" in r for r in data["reasons"])


# -- manual 000's worked example of 确诊初次罹患 (lines 49-66) ------------------------

TABLE_SRC = S("000", 49, 66, "本合同生效为 2024 年 5 月 1 日", "是否满足在本合同保险期间内初次确诊")
EFF_000 = date(2024, 5, 1)


@pytest.mark.parametrize("line, first_diagnosis, expected", [
    (62, date(2024, 4, 30), False),   # 2024 年 5 月 1 日之前 否
    (62, date(2010, 1, 1), False),
    (64, date(2024, 5, 1), False),    # 2024 年 5 月 1 日起的 30 日（含）内 否
    (64, date(2024, 5, 30), False),   # day 30 is still within
    (66, date(2024, 5, 31), True),    # 2024 年 5 月 1 日起的 30 日后 是
    (66, date(2025, 4, 30), True),
])
def test_first_diagnosis_table(line, first_diagnosis, expected):
    row = squash(_FILES["000"].read_text(encoding="utf-8").splitlines()[line - 1])
    assert row.startswith("2024年5月1日") and row[-1] == ("是" if expected else "否"), row
    ok, reason = first_diagnosis_within_term(first_diagnosis, EFF_000, 30, source=TABLE_SRC)
    assert ok is expected
    assert reason.passed is expected and reason.source == TABLE_SRC


def test_first_diagnosis_after_the_term():
    ok, reason = first_diagnosis_within_term(date(2025, 5, 1), EFF_000, 30, term_end=date(2025, 4, 30))
    assert not ok and "届满" in reason.message_zh
    ok, reason = first_diagnosis_within_term(None, EFF_000)
    assert not ok and reason.passed is None


# -- family terms carried by the tier's Edition.rule (the format the 004 adapter writes) ----

TIER_SRC = S("004", 99, 102, "直系亲属: 不超过3年", "被保险人+指定3名直系亲属", "直系亲属可用服务1次/年")
FAM_2 = {"end": {"kind": "years", "years": 3}, "max_members": 3, "shared_with": "immediate_relatives", "usage_limit": 1,
         "usage_period": "policy_year", "excluded_services": ["重疾三甲专家病房", "重疾三甲专家手术"]}
TIERED = (
    EntitlementRule("太保蓝本（2023版）", tier="太保蓝本（2023版） 专业版", usage_limit=1, usage_period="policy_year",
                    validity_rule=R_PAY, source=S("004", 93, 93, "1 次/年"), validity_source=V2023),
    EntitlementRule("太保蓝本（2023版）", tier="太保蓝本（2023版） 尊享版2档", usage_limit=5, usage_period="policy_year",
                    validity_rule={**R_PAY, "family": FAM_2}, source=S("004", 93, 93, "5 次/年"), validity_source=TIER_SRC),
)
LB_TIERED = replace(LB_ESCORT, beneficiary=BeneficiaryRule("insured_and_family", depends_on_tier=True,
                                                           source=S("004", 497, 497, "直系亲属")), entitlements=TIERED)
SPOUSE = PersonFacts("w", "spouse", designated_since=date(2026, 4, 1))


@pytest.mark.parametrize("rule, tier, person, uses, today, status, phrase", [
    (LB_TIERED, "专业版", SPOUSE, 0, date(2026, 5, 1), NOT_ELIGIBLE, "按您的太保蓝本（2023版） 专业版，重疾陪诊服务仅限被保险人本人使用"),
    (LB_TIERED, "尊享版2档", SPOUSE, 0, date(2026, 5, 1), ELIGIBLE, "家人共 1 次"),
    (LB_TIERED, "尊享版2档", SPOUSE, 1, date(2026, 5, 1), NOT_ELIGIBLE, "已全部用完"),
    (LB_TIERED, "尊享版2档", ME, 4, date(2026, 5, 1), ELIGIBLE, "共 5 次，已使用 4 次"),
    (LB_TIERED, "尊享版2档", SPOUSE, 0, date(2029, 4, 1), NOT_ELIGIBLE, "家人的服务有效期已于2029年3月31日结束"),
    (LB_TIERED, "尊享版2档", PersonFacts("w", "spouse"), 0, date(2026, 5, 1), NEED_INFO, "最多指定 3 名"),
    (replace(LB_TIERED, name="重疾三甲专家病房"), "尊享版2档", SPOUSE, 0, date(2026, 5, 1), NOT_ELIGIBLE,
     "不在家人可享的服务范围内"),
    (LB_TIERED, "尊享版", ME, 0, date(2026, 5, 1), ELIGIBLE, "尊享版2档"),   # one tier of that name here
])
def test_family_terms_from_the_tier(rule, tier, person, uses, today, status, phrase):
    pol = P(edition="2023版", tier=tier, payment_term_years=10)
    d = decide(rule, pol, person, replace(DX_OK, uses_this_period=uses), today)
    assert d.status == status and phrase in d.text_zh(), d.text_zh()


def test_an_add_on_is_known_by_either_of_its_names():
    from rules.engine import _same_cover

    assert _same_cover("门急诊保险金", "门急诊医疗补充加油包")
    assert not _same_cover("门急诊保险金", "住院医疗补充加油包") and not _same_cover("保险金", "加油包")


def test_an_ended_service_period_is_told_with_the_manuals_span():
    from assist.qa import answer
    from knowledge.query import KnowledgeBase

    rep = answer(KnowledgeBase(), "太保蓝本2022关爱版，保单生效快两年了，重疾三甲专家预约还能用吗")
    assert "不能" in rep.text and "保单生效后一年" in rep.text, rep.text


# 000 平安 出院交通安排: 住院天数需大于2天（包含） (line 1378).
PA_RIDE_HOME = ServiceRule(name="出院交通安排", manual_id="000", source=S("000", 1378, 1378, "住院天数需大于2天"),
                           waiting=WaitingRule("none"), min_stay_days=2,
                           min_stay_source=S("000", 1378, 1378, "住院天数需大于2天（包含）"))


@pytest.mark.parametrize("stay,status,phrase", [(5, ELIGIBLE, "住院 5 天"), (1, NOT_ELIGIBLE, "您说住院 1 天"),
                                                (None, NEED_INFO, "住院了几天")])
def test_the_stay_in_hospital_a_service_requires(stay, status, phrase):
    d = decide(PA_RIDE_HOME, PolicyFacts(effective_date=date(2025, 1, 1)), PersonFacts(is_insured=True),
               CaseFacts(stay_days=stay), date(2026, 12, 1))
    assert d.status == status
    assert any(phrase in r.message_zh for r in d.reasons if r.code == "stay")
