"""Readers shared by every adapter: what a piece of manual text says about a service.

- READERS is the table of (attribute, pattern, reader) rows: a sentence matching `pattern`
  states `attribute`, and `reader(match, sentence)` gives the fact's data. scan() runs the rows of
  the attributes an adapter asks for over one sentence.
- Value readers turn a text already known to be about one thing (a labelled field, a table cell)
  into data, mostly by running the rows of that attribute: usage(), entitlement_cell(), waiting(),
  beneficiary(), diagnosis(), cancellation(), lead_time(), response_time(), trigger().
- field() and topics() say what a labelled field or an unlabelled remark is about
  (`field_labels` and `remark_topics` in vocab.yaml).
- contacts_in() and EMAIL read the hotlines, WeChat accounts and menu paths, hours and e-mail
  addresses a line names.

Adapters keep only their manual's outline and table shapes: which text is a field, a cell, a
remark or a sentence. Keywords come from knowledge/ingest/vocab.yaml (lexicon), store names
from knowledge.vocab. Fact data has one shape per attribute:

    usage_limit      {"limit", "period"} (+ "carry_over", "max_days", "times", "choose", ...)
    waiting_period   {"waiting_kind", "waiting_days", "waivers"} (those stated)
    cooling_off      {"waiting_kind", "cooling_off_days"} (those stated)
    beneficiary      {"beneficiary"}
    diagnosis        {"kind", "hospital", "condition", "first_diagnosis"} (those stated)
    cancellation     Service.usage_rule keys (knowledge.vocab.UsageRuleKey)
    lead_time        {"hours", "before"} (+ "working_days")
    response_time    {"amount", "unit", "action"}; review_time the same
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Optional, cast

from knowledge.ingest.lexicon import cn_int, contact_label, lexicon, numeral_chars
from knowledge.ingest.text import clean, squash
from knowledge.vocab import Beneficiary, DiagnosisKind, FactAttribute, UsagePeriod, UsageRuleKey, WaitingKind, \
    WaitingWaiver

A = FactAttribute
K = UsageRuleKey


def num(s: str | None) -> Optional[int]:
    return cn_int(s)


# -- the table ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reader:
    attribute: FactAttribute
    pattern: re.Pattern
    read: Callable[[re.Match, str], Any] = lambda mm, s: None  # noqa: E731 - the fact's data
    required: bool = False  # no reading when `read` gives None (the pattern only finds candidates)
    fallback: bool = False  # read only when no other row of the attribute matched the text


@dataclass(frozen=True)
class Reading:
    attribute: FactAttribute
    data: Any
    start: int  # where the pattern matched in the text given to scan()
    end: int


def _kind(k: WaitingKind) -> dict[str, Any]:
    return {"waiting_kind": str(k)}


def _rows() -> list[Reader]:
    N = rf"(\d+|[{numeral_chars()}]+)"  # a number in digits or Chinese numerals
    R = Reader
    same = _kind(WaitingKind.SAME_AS_POLICY)
    return [
        # -- waiting and cooling-off periods (the first waiting_kind a text states is its reading)
        R(A.COOLING_OFF, re.compile(r"(\d+)\s*天犹豫期"),
          lambda mm, s: {**_kind(WaitingKind.AFTER_COOLING_OFF), "cooling_off_days": int(mm.group(1))}),
        R(A.COOLING_OFF, re.compile(r"(\d+)\s*日的犹豫期"), lambda mm, s: {"cooling_off_days": int(mm.group(1))}),
        R(A.WAITING_PERIOD, re.compile(r"(\d+)\s*天等待期"),
          lambda mm, s: {**_kind(WaitingKind.DAYS), "waiting_days": int(mm.group(1))}),
        R(A.WAITING_PERIOD, re.compile(r"(\d+)\s*(?:天|日)?\s*内\s*[(（]含第\s*\d+\s*天[)）]"),
          lambda mm, s: {**_kind(WaitingKind.DAYS), "waiting_days": int(mm.group(1)), "inclusive": True}),
        R(A.WAITING_PERIOD, re.compile(r"等待期(与保单一致|同保险产品合同规定的等待期|与主险一致|与保险责任等待期一致)"),
          lambda mm, s: dict(same)),
        R(A.WAITING_PERIOD, re.compile(r"续期.{0,6}无等待期"), lambda mm, s: {"waivers": [str(WaitingWaiver.RENEWAL)]}),
        R(A.WAITING_PERIOD, re.compile(r"意外无等待期"), lambda mm, s: {**same, "waivers": [str(WaitingWaiver.ACCIDENT)]}),
        R(A.WAITING_PERIOD, re.compile(r"转保无(?:服务)?等待期"), lambda mm, s: {"waivers": [str(WaitingWaiver.TRANSFER)]}),
        R(A.WAITING_PERIOD, re.compile(r"(保单)?等待期(满|结束)?后|过.{0,4}等待期"), lambda mm, s: dict(same)),
        R(A.WAITING_PERIOD, re.compile(r"等待期所产生的服务需求不在服务范围内"), lambda mm, s: dict(same)),
        R(A.COOLING_OFF, re.compile(r"犹豫期后"), lambda mm, s: _kind(WaitingKind.AFTER_COOLING_OFF)),
        R(A.WAITING_PERIOD, re.compile(r"等待期"), fallback=True),
        # -- who
        R(A.BENEFICIARY, re.compile(r"仅限(?:客户[（(]被保险人[)）]|被保险人)本人使用|仅限被保险人(?:本人)?使用|"
                                    r"仅限客户.{0,8}本人使用|仅限[^,，。]{0,6}被保险人[^,，。]{0,4}本人|给被保险人的服务"),
          lambda mm, s: {"beneficiary": str(Beneficiary.INSURED)}),
        R(A.AGE, re.compile(r"(\d+)\s*周岁以上"), lambda mm, s: {"age_min": int(mm.group(1))}),
        R(A.AGE, re.compile(r"(\d+)\s*周岁[(（]含[)）]以下"), lambda mm, s: {"age_max_excluded": int(mm.group(1))}),
        # -- diagnosis: by a hospital of some grade, of a named disease, or by a hospital's specialist
        R(A.DIAGNOSIS, _DIAGNOSIS, _diagnosis_match),
        # -- how much
        R(A.USAGE_LIMIT, re.compile(rf"一个保单年度内使用\s*{N}\s*次"),
          lambda mm, s: {"limit": num(mm.group(1)), "period": "policy_year", "explicit": True}),
        R(A.USAGE_LIMIT, re.compile(rf"{N}\s*次\s*/\s*年"), lambda mm, s: {"limit": num(mm.group(1)), "period": "policy_year"}),
        R(A.USAGE_LIMIT, re.compile(r"一年限一次|1\s*年一次|限一年一次"), lambda mm, s: {"limit": 1, "period": "policy_year"}),
        R(A.USAGE_LIMIT, re.compile(r"一年内不限次"), lambda mm, s: {"limit": None, "period": "unlimited"}),
        R(A.USAGE_LIMIT, re.compile(r"(?<!一年内)不限次(?!数使用)"),
          lambda mm, s: {"limit": None, "period": "unlimited", "item": True}),
        R(A.USAGE_LIMIT, re.compile(r"(?:仅限|仅提供|仅可申请|服务仅限)\s*\d+\s*次"), lambda mm, s: usage(s)),
        R(A.USAGE_LIMIT, re.compile(r"天数以\s*(\d+)\s*日为限|累计不超过\s*(\d+)\s*天"),
          lambda mm, s: {"max_days": int(mm.group(1) or mm.group(2)), "period": "policy_year"}),
        R(A.USAGE_LIMIT, re.compile(r"(?:最长|最多)(?:提供)?(?:为期)?\s*(\d+)\s*天"), lambda mm, s: {"max_days": int(mm.group(1))}),
        R(A.USAGE_LIMIT, re.compile(r"每天(?:最长|最多)\s*(\d+)\s*小时"), lambda mm, s: {"max_hours_per_day": int(mm.group(1))}),
        R(A.USAGE_LIMIT, re.compile(r"不支持服务天数拆分使用|不能中断"), lambda mm, s: {"no_split": True}),
        R(A.USAGE_LIMIT, re.compile(rf"选择\s*{N}\s*次"), lambda mm, s: {"times": num(mm.group(1)), "period": "per_stay"}),
        R(A.USAGE_LIMIT, re.compile(rf"{N}\s*项检查项目任选一"), lambda mm, s: {"choose": 1, "choose_from": num(mm.group(1))}),
        R(A.USAGE_LIMIT, re.compile(r"每次住院垫付医疗费用总计以\s*(\d+)\s*万为限"),
          lambda mm, s: {"max_amount_yuan": int(mm.group(1)) * 10000, "period": "per_stay"}),
        R(A.USAGE_LIMIT, re.compile(r"次数参见保单约定|报销次数"), lambda mm, s: {"see_policy": True}),
        # -- times
        # "通常 7-10 个工作日内…", within N (working) hours / days someone acts, "响应时效：N 小时内",
        # "N 个工作日内" alone
        R(A.RESPONSE_TIME, re.compile(
            r"通常(?:为|需要)?\s*(?P<usual>\d+)(?:\s*-\s*(?P<usual_max>\d+))?\s*个工作日[^，。；（）()]*(?:[（(][^）)]*[）)])?"
            rf"|(?:T\+)?(?P<n>\d+|[{numeral_chars()}]+)\s*(?:个)?\s*(?P<unit>工作小时|工作日|小时)(?:之|日)?内?[^,，。;；]{{0,14}}?"
            r"(?P<action>响应|联系|反馈|完成|做出|落实|出具|安排|确定)"
            r"|响应时效[:：]\s*(?P<label>\d+)\s*小时内"
            rf"|(?P<days>\d+|[{numeral_chars()}]+)\s*个工作日内(?!.*审核)"), _response_match),
        R(A.REVIEW_TIME, re.compile(rf"{N}\s*个工作日内(审核|会有)"),
          lambda mm, s: {"amount": num(mm.group(1)), "unit": "working_days", "action": mm.group(2)}),
        # "一个工作日做出审核结果", "4小时之内做出垫付结论": when a decision on the application is made
        R(A.REVIEW_TIME, re.compile(rf"{N}\s*(?:个)?\s*(工作日|小时)\s*(?:之内|以内|内)?\s*(?:做出|作出)(审核结果|[\u4e00-\u9fff]{{0,4}}结论)"),
          lambda mm, s: {"amount": num(mm.group(1)), "unit": "working_days" if mm.group(2) == "工作日" else "hours",
                         "action": mm.group(3)}),
        R(A.LEAD_TIME, re.compile(r"提前\s*(\d+)\s*(?:个)?小时(?:提交|提出)?(?:服务)?(?:申请|预约)"),
          lambda mm, s: {"hours": int(mm.group(1)), "before": "service"}),
        R(A.LEAD_TIME, re.compile(r"出院前\s*(\d+)\s*小时(?:预约评估)?申请"),
          lambda mm, s: {"hours": int(mm.group(1)), "before": "discharge"}),
        R(A.LEAD_TIME, re.compile(rf"提前\s*{N}\s*个工作日(?:进行申请|申请)"),
          lambda mm, s: {"hours": 24 * cast(int, num(mm.group(1))), "working_days": num(mm.group(1)),
                         "before": "service"}),
        R(A.LEAD_TIME, re.compile(r"出院后\s*(\d+)\s*天内预约"), lambda mm, s: {"book_within_days_after_discharge": int(mm.group(1))}),
        R(A.BOOKING_WINDOW, re.compile(r"仅可预约\s*(\d+)\s*日内"), lambda mm, s: {"days": int(mm.group(1))}),
        R(A.MIN_STAY, re.compile(r"住院天数\s*(?:需|须)?\s*(?:连续)?\s*(?:达到|大于|≥|>=)\s*(\d+)\s*天|住院天数\s*连续\s*(\d+)\s*天"),
          lambda mm, s: {"days": int(mm.group(1) or mm.group(2))}),
        # -- cancelling and changing (each row reads the rule its own words state)
        R(A.CANCELLATION, re.compile(r"提前\s*(\d+)\s*小时通知|开始前\s*\d+\s*小时以上取消/修改预约(?:[^。]*?最多\s*\d+\s*次)?"),
          lambda mm, s: cancellation(mm.group(0))),
        R(A.CANCELLATION, re.compile(r"视同(?:该次)?服务已完成|视作服务权益已使用完毕|视为服务已使用|视同服务受益人已使用过一次服务|"
                                     r"扣除客户本次权益|扣减权益次数|视为(?:完成服务|本服务已使用一次)|不能取消|无法取消"),
          lambda mm, s: cancellation(mm.group(0))),
        R(A.CANCELLATION, re.compile(rf"提前{N}个工作日告知客服取消"), lambda mm, s: cancellation(mm.group(0))),
        # -- money, limits of the service, documents
        R(A.FEES, re.compile(r"帮助客户报销[^。]*?单次最高报销\s*(\d+)\s*元[^。]*|单次最高报销\s*(\d+)\s*元[^。]*"),
          lambda mm, s: {"max_per_claim_cny": int(mm.group(1) or mm.group(2))}),
        R(A.FEES, re.compile(r"费用[^。；]*?(自行承担|自理|自费|自行支付|自付)|费用.{0,8}?(?:承担和支付|由客户(?:自行)?承担)|"
                             r"不会向您收取任何服务费用|由客户承担|费用均由")),
        R(A.EXCLUSIONS, re.compile(r"不在(?:该|本)?服务范围|不属于(?:本服务|服务范畴)|暂不支持|不支持|不包括|不适用于|除外|有权拒绝|"
                                   r"不包含留观室|不可视为|不可视疾病|不可指定")),
        R(A.DOCUMENTS, re.compile(r"需客户提供([^）)，。]+)"), lambda mm, s: {"documents": clean(mm.group(1))}),
        R(A.DOCUMENTS, re.compile(r"需具备|需持有|须提供|需提供以下材料|(?:^\d{1,2}\)\s*|需要?|必须|请|仅需)提(?:供|交)(?!哪些)"
                                  r"[^。;；]{0,40}?(?:资料|材料|住院单|病历|凭证|证明)")),
        # -- where
        R(A.COVERAGE, re.compile(r"覆盖全国\s*(\d+)\s*个城市|全国共计\s*(\d+)\s*个城市"),
          lambda mm, s: {"stated_count": int(mm.group(1) or mm.group(2))}),
        R(A.COVERAGE, re.compile(r"仅覆盖市区范围|城市下属的?县"), lambda mm, s: {"urban_only": True}),
        R(A.COVERAGE, re.compile(r"仅限在([\u4e00-\u9fff]{2,12}医院)内使用"), lambda mm, s: {"hospital": mm.group(1)}),
        R(A.COVERAGE, re.compile(r"范围为全国|全国范围内均可"), lambda mm, s: {"scope": "nationwide"}),
        R(A.COVERAGE, re.compile(r"(全国)?\s*(近|超)?\s*(\d+)\s*个重点城市[，,]?\s*(近|超)?\s*(\d+)\s*(余)?家公立医院"),
          lambda mm, s: {"cities": int(mm.group(3)), "cities_qualifier": mm.group(2), "hospitals": int(mm.group(5)),
                         "hospitals_qualifier": mm.group(4) or ("余" if mm.group(6) else None), "list_in_manual": False}),
        R(A.HOSPITAL_CHOICE, re.compile(r"支持指定[^。]+|不指定[^，。）)]*|可指定[^，。）)]*")),
        R(A.SERVICE_HOURS, re.compile(r"(服务时间|接诊服务时间|工作时间为|电话接听时间)(?:为)?[：:]?\s*(每日|每天|工作日)?\s*"
                                      r"([\d:：xX*]+\s*(?:小时|[-~～]\s*[\d:：]+(?:pm)?))"),
          lambda mm, s: {"hours": clean(mm.group(3)).replace("：", ":"),
                         **({"days": mm.group(2)} if mm.group(2) == "工作日" else {})}),
        R(A.SERVICE_HOURS, re.compile(r"7\s*[×*xX]\s*24\s*小时"), lambda mm, s: {"hours": clean(mm.group(0))}),
        R(A.SERVICE_HOURS, re.compile(r"人工服务时间[：:]\s*([^。]+)"), lambda mm, s: {"hours": clean(mm.group(1))}),
        # -- about the text
        R(A.ALIAS, re.compile(r"^(\S+?)即(\S+?)服务"), lambda mm, s: {"alias": mm.group(2), "of": mm.group(1)}),
    ]


_UNITS = {"工作小时": "working_hours", "工作日": "working_days", "小时": "hours", "天": "days"}


def _response_match(mm: re.Match, s: str) -> dict[str, Any]:
    g = mm.groupdict()
    if g["usual"]:
        out: dict[str, Any] = {"amount": int(g["usual"]), "unit": "working_days"}
        if g["usual_max"]:
            out["amount_max"] = int(g["usual_max"])
        return out
    if g["n"]:
        return {"amount": num(g["n"]), "unit": _UNITS[g["unit"]], "action": g["action"]}
    if g["label"]:
        return {"amount": int(g["label"]), "unit": "hours", "action": "响应"}
    return {"amount": num(g["days"]), "unit": "working_days"}

_DIAGNOSIS = re.compile(
    r"(二级(?:或|及)(?:二级)?以上(?:的)?公立医院(?:普通部)?|(?<=经)[\u4e00-\u9fff]{2,12}?医院(?=的专科医生))(?:的专科医生)?\s*"
    r"(初次)?(确诊或诊断疑似|确诊)(?:罹患|为)([^，。；,;]*)"
    r"|(疑似或确诊|确诊|诊断)[^,，。;；]{0,16}?(\d+\s*种(?:重大疾病|重疾|疾病)|恶性肿瘤|肿瘤)"
    r"|经([^,，。;；]{0,14}?(?:医院|医疗机构))(?:的)?专科医生(?!\s*(?:初次)?(?:确诊或诊断疑似|确诊)(?:罹患|为))")


def _diagnosis_match(mm: re.Match, s: str) -> dict[str, Any]:
    if mm.group(1):
        kind = DiagnosisKind.SUSPECTED_OR_CONFIRMED if "疑似" in mm.group(3) else DiagnosisKind.CONFIRMED
        return {"kind": str(kind), "hospital": mm.group(1), "condition": clean(mm.group(4))}
    if mm.group(5):
        kind = DiagnosisKind.SUSPECTED_OR_CONFIRMED if mm.group(5) == "疑似或确诊" else DiagnosisKind.CONFIRMED
        return {"kind": str(kind), "condition": squash(mm.group(6))}
    return {"hospital": mm.group(7)}


@lru_cache(maxsize=1)
def table() -> tuple[Reader, ...]:
    """READERS, built on first use (the numeral class comes from the vocabulary file)."""
    return tuple(_rows())


def scan(text: str, attributes: Iterable[str], clause: Callable[[int], str] | None = None) -> Iterator[Reading]:
    """Readings of `attributes` in `text`, in table order. `clause(pos)` gives the part of the text a
    reader reads (default: all of it)."""
    want = {str(a) for a in attributes}
    hit: set[str] = set()
    for row in table():
        if row.attribute not in want or (row.fallback and row.attribute in hit):
            continue
        for mm in row.pattern.finditer(text):
            data = row.read(mm, clause(mm.start()) if clause else text)
            if data is None and row.required:
                continue
            hit.add(row.attribute)
            yield Reading(row.attribute, data, mm.start(), mm.end())


def _merged(text: str, attributes: Iterable[str]) -> dict[str, Any]:
    """The readings of some attributes in one text merged: first value of each key wins, lists add up."""
    out: dict[str, Any] = {}
    for r in scan(squash(text), attributes):
        for k, v in (r.data or {}).items():
            if isinstance(v, list):
                out[k] = list(dict.fromkeys([*out.get(k, []), *v]))
            else:
                out.setdefault(k, v)
    return out


# -- usage ---------------------------------------------------------------------------------------

_UNLIMITED = re.compile(r"不限次|无限次")
_NOT_INCLUDED = {"-", "无", "—", "--"}


def usage(text: str) -> Optional[dict[str, Any]]:
    """'保险合同有效期内限 3 次' -> {limit: 3, period: contract}; '不限次' -> {limit: None, period:
    unlimited}; a bare '1 次' is once in the contract. None when the text states neither a number
    of uses nor a period. Periods: `usage_periods` in vocab.yaml."""
    t = squash(text)
    period = next((str(p) for rx, p in lexicon().usage_periods if rx.search(t)), None)
    if _UNLIMITED.search(t):
        return {"limit": None, "period": str(UsagePeriod.UNLIMITED)}
    n = rf"(\d+|[{numeral_chars()}]+)"
    mm = re.search(rf"{n}次", t)
    if mm is None and period is None:
        return None
    if mm and period is None and re.fullmatch(rf"{n}次", t):
        period = str(UsagePeriod.CONTRACT)
    data: dict[str, Any] = {"limit": num(mm.group(1)) if mm else None, "period": period}
    if re.search(r"不可跨.{0,6}累计", t):
        data["carry_over"] = False
    return data


_RULE_KEYS = {"max_days": K.MAX_DAYS, "max_hours_per_day": K.MAX_HOURS_PER_DAY, "no_split": K.NO_SPLIT,
              "max_amount_yuan": K.MAX_AMOUNT_YUAN_PER_STAY, "choose": K.CHOOSE, "choose_from": K.CHOOSE_FROM,
              "see_policy": K.SEE_POLICY, "carry_over": K.CARRY_OVER}


def usage_rule_of(data: dict[str, Any] | None) -> dict[str, Any]:
    """The Service.usage_rule keys a usage_limit reading states (times -> times_options list)."""
    data = data or {}
    out = {str(k): data[d] for d, k in _RULE_KEYS.items() if d in data}
    if "times" in data:
        out[str(K.TIMES_OPTIONS)] = [data["times"]]
    return out


def entitlement_cell(cell: str) -> tuple[bool, Optional[int], Optional[str]]:
    """(included, usage_limit, usage_period) of an entitlement table cell: '-' / '无' is not
    included, a number of uses without a period is once in the service period."""
    s = squash(cell)
    if not s or s in _NOT_INCLUDED:
        return False, None, None
    u = usage(s)
    if u is None or (u["limit"] is None and u["period"] != UsagePeriod.UNLIMITED):
        return True, None, None
    if u["period"] == UsagePeriod.UNLIMITED:
        return True, None, u["period"]
    return True, u["limit"], u["period"] or str(UsagePeriod.CONTRACT)


# -- waiting period ---------------------------------------------------------------------------------

def waiting(text: str) -> dict[str, Any]:
    """When use can start and who skips the wait: '90 天等待期后' -> days; '15 天犹豫期后' ->
    after_cooling_off; '等待期后' / '与保单一致' -> same_as_policy; '续期无等待期' -> waiver renewal."""
    return _merged(text, (A.WAITING_PERIOD, A.COOLING_OFF))


def waiting_attribute(data: dict[str, Any]) -> FactAttribute:
    """A waiting() reading that waits for the cooling-off period is a cooling_off fact."""
    return A.COOLING_OFF if data.get("waiting_kind") == WaitingKind.AFTER_COOLING_OFF else A.WAITING_PERIOD


def waiting_columns(data: dict[str, Any]) -> dict[str, Any]:
    """Service fields of a waiting() reading."""
    out = {k: v for k, v in data.items() if k in ("waiting_kind", "waiting_days", "cooling_off_days")}
    if data.get("waivers"):
        out["waiting_waivers"] = list(data["waivers"])
    return out


# -- beneficiary ------------------------------------------------------------------------------------

_INSURED_AND_FAMILY = re.compile(r"被保险人/家属|被保险人及其?家属|被保险人及家人|本人及家属")
_FAMILY = re.compile(r"家属|家人|直系亲属|家庭成员")
_INSURED = re.compile(r"被保(?:险)?人|本人|权益人")


def beneficiary(text: str) -> Optional[str]:
    """Who a 服务对象 / 适用人群 text names: insured, insured_and_family or designated_family."""
    t = squash(text)
    if _INSURED_AND_FAMILY.search(t):
        return str(Beneficiary.INSURED_AND_FAMILY)
    if _FAMILY.search(t):
        return str(Beneficiary.INSURED_AND_FAMILY if _INSURED.search(t) else Beneficiary.DESIGNATED_FAMILY)
    if _INSURED.search(t):
        return str(Beneficiary.INSURED)
    return None


# -- diagnosis --------------------------------------------------------------------------------------

_HOSPITAL = re.compile(r"经([^,，。;；]{0,20}?(?:医院|医疗机构)(?:普通部)?)")


def diagnosis(text: str) -> dict[str, Any]:
    """The diagnosis a condition text requires: kind (suspected / confirmed / both), the hospital
    that makes it, the condition, whether it must be the first one; or the disease being treated
    (kind treated_for). {} when the text requires none."""
    t = squash(text)
    out: dict[str, Any] = {}
    if re.search(r"疑似或确诊|确诊或(?:诊断)?疑似", t):
        out["kind"] = str(DiagnosisKind.SUSPECTED_OR_CONFIRMED)
    elif "确诊" in t:
        out["kind"] = str(DiagnosisKind.CONFIRMED)
    elif "疑似" in t:
        out["kind"] = str(DiagnosisKind.SUSPECTED)
    elif mm := re.search(r"因(.+?)就医", t):
        return {"kind": "treated_for", "condition": mm.group(1)}
    else:
        return {}
    if mm := _HOSPITAL.search(t):
        out["hospital"] = mm.group(1)
    if mm := re.search(r"(?:疑似或确诊|确诊或(?:诊断)?疑似|确诊|疑似)(?:初次)?(?:罹患|为)?(.+?)(?:[,，。;；(（]|$)", t):
        out["condition"] = mm.group(1)
    out["first_diagnosis"] = "初次" in t
    return out


def hospital_requirement(text: str) -> Optional[str]:
    """The hospital grade a definition requires: '二级以上(含二级)公立医院'."""
    mm = re.search(r"([一二三]级(?:及)?以上(?:\(含[一二三]级\))?公立医院)", clean(text))
    return mm.group(1) if mm else None


def diagnosis_kind(data: dict[str, Any] | None) -> Optional[str]:
    """Service.diagnosis_kind of a diagnosis() reading (being treated for a disease is no diagnosis kind)."""
    kind = (data or {}).get("kind")
    return kind if kind in DiagnosisKind._value2member_map_ else None


def trigger(text: str) -> list[tuple[FactAttribute, Any]]:
    """A 前提条件 / 适用条件 text: the trigger as written (data: its diagnosis), the diagnosis and
    the waiting or cooling-off period it requires."""
    d, w = diagnosis(text), waiting(text)
    out: list[tuple[FactAttribute, Any]] = [(A.TRIGGER, d or None)]
    if d:
        out.append((A.DIAGNOSIS, d))
    if w:
        out.append((waiting_attribute(w), w))
    return out


# -- cancellation -----------------------------------------------------------------------------------

_COUNTS = r"(?:视为|视同|视作)[^,，。;；]{0,8}?(?:服务已完成|完成服务|已使用|使用一次|使用完毕)"
_CONFIRMED_COUNTS = re.compile(r"视同(?:该次)?服务已完成|视作服务权益已使用完毕|视为服务已使用|视同服务受益人已使用过一次服务|"
                               r"扣除客户本次权益|扣减权益次数|视为(?:完成服务|本服务已使用一次)")
_NO_SHOW = re.compile(rf"(?:未在预约时间使用|未在预定时间就医|未能按时就医|没有使用|未按时取消|无法住院或手术)[^。;；]{{0,8}}?{_COUNTS}")


def cancellation(text: str) -> dict[str, Any]:
    """Cancelling, changing and no-shows, as Service.usage_rule keys: notice to give, whether a
    cancellation after confirmation or a no-show counts as a use."""
    t = squash(text)
    n = rf"(\d+|[{numeral_chars()}]+)"
    rule: dict[str, Any] = {}
    if re.search(r"取消|更改|告知", t) and (mm := re.search(rf"提前{n}个?(工作日|天)", t)):
        rule[K.CANCEL_NOTICE_WORKDAYS if mm.group(2) == "工作日" else K.CANCEL_NOTICE_DAYS] = num(mm.group(1))
    if mm := re.search(r"(?:开始前|提前)(\d+)小时(?:以上)?(?:取消/修改预约|通知)", t):
        rule[K.CHANGE_NOTICE_HOURS] = int(mm.group(1))
        if mx := re.search(r"最多(\d+)次", t[mm.end():]):
            rule[K.MAX_CHANGES] = int(mx.group(1))
    if re.search(r"不允许.{0,4}取消|不能取消|无法取消", t):
        rule[K.NO_CANCEL] = True
    if re.search(rf"已经成功取样.{{0,4}}{_COUNTS}", t):
        rule[K.SAMPLED_COUNTS] = True
    elif _NO_SHOW.search(t):
        rule[K.NO_SHOW_COUNTS] = True
    if _CONFIRMED_COUNTS.search(t) or rule.get(K.NO_CANCEL):
        rule[K.CANCEL_AFTER_CONFIRM_COUNTS] = True
    return {str(k): v for k, v in rule.items()}


# -- times --------------------------------------------------------------------------------------------

def lead_time(text: str) -> Optional[dict[str, Any]]:
    """How long before the service to apply: {"hours": 48, "before": "service"}; a working day or
    a day counts 24 hours. A notice for cancelling is no lead time."""
    t = squash(text)
    if mm := re.search(r"出院前(\d+)小时", t):
        return {"hours": int(mm.group(1)), "before": "discharge"}
    for mm in re.finditer(rf"(?:至少)?提前(\d+|[{numeral_chars()}]+)个?(工作日|天|小时)", t):
        if re.search(r"告知|取消|调整|联系我们|出院|通知", t[max(0, mm.start() - 6):mm.start()] + t[mm.end():mm.end() + 6]):
            continue
        n = num(mm.group(1))
        data: dict[str, Any] = {"hours": n * (1 if mm.group(2) == "小时" else 24) if n is not None else None,
                                "before": "service"}
        if mm.group(2) == "工作日":
            data["working_days"] = n
        return data
    return None


def response_time(text: str) -> Optional[dict[str, Any]]:
    """'2 个工作小时内响应' -> {"amount": 2, "unit": "working_hours", "action": "响应"}."""
    return next((r.data for r in scan(clean(text), [A.RESPONSE_TIME]) if r.data and "action" in r.data), None)


# -- labelled fields and remarks ------------------------------------------------------------------------

def field(label: str) -> Optional[FactAttribute]:
    """The attribute a field label states (`field_labels` in vocab.yaml), else None."""
    return lexicon().field_labels.get(squash(label or "").rstrip("：:"))


def topics(text: str, among: Iterable[str]) -> list[FactAttribute]:
    """What a remark is about (`remark_topics` in vocab.yaml), among the given attributes, in table order."""
    want = {str(a) for a in among}
    return [a for rx, a in lexicon().remark_topics if a in want and rx.search(text)]


# -- validity of an edition (Edition.rule) and family sharing -------------------------------------------------

def validity_end(text: str) -> Optional[dict[str, Any]]:
    """When an edition's services end: {"kind": "years", "years": 3} / calendar_year_end / payment_term / one_year."""
    s = squash(text)
    if mm := re.search(r"(?:^|有效期)为(\d+)年", s):
        rule: dict[str, Any] = {"kind": "years", "years": int(mm.group(1))}
        if up := re.search(r"升级为(\d+)年", s):
            rule["upgraded_years"] = int(up.group(1))
        return rule
    if mm := re.search(r"生效后(\d+)年内", s):
        return {"kind": "years", "years": int(mm.group(1))}
    if "12月31日" in s:
        return {"kind": "calendar_year_end"}
    if re.search(r"交费期|交费年度", s):
        return {"kind": "payment_term"}
    if re.search(r"生效后一年|有效期为一年", s):
        return {"kind": "one_year"}
    if mm := re.search(r"不超过(\d+)年", s):
        return {"kind": "years", "years": int(mm.group(1))}
    return None


def validity_start(text: str) -> Optional[dict[str, Any]]:
    """When an edition's services start: day N after the condition is met, the day after joining,
    after the cooling-off period, when the policy takes effect."""
    s = squash(text)
    if mm := re.search(r"第(\d+)天起", s):
        return {"kind": "day_n_after_condition", "day": int(mm.group(1))}
    if re.search(r"次日", s):
        return {"kind": "join_next_day"}
    if mm := re.search(r"不含(\d+)[天条日]犹豫期", s):
        return {"kind": "after_cooling_off", "days": int(mm.group(1))}
    if "剔除" in s and "犹豫期" in s:
        return {"kind": "after_cooling_off"}
    if re.search(r"生效后", s):
        return {"kind": "effective"}
    return None


def validity_rule(text: str) -> dict[str, Any]:
    """Edition.rule from a validity sentence or a 服务期限 cell ("被保险人：…直系亲属：…" splits the two)."""
    rule: dict[str, Any] = {}
    s = squash(text)
    own, fam = s, None
    if "直系亲属" in s and "被保险人" in s:
        if mm := re.search(r"被保险人[：:](.+?)直系亲属[：:](.+)$", s):
            own, fam = mm.group(1), mm.group(2)
    start, end = validity_start(own), validity_end(own)
    if start:
        rule["start"] = start
    if end:
        rule["end"] = end
    if fam and (fend := validity_end(fam)):
        rule["family"] = {"end": fend}
    return rule


def family_share(text: str) -> Optional[dict[str, Any]]:
    """Family sharing of a 服务对象 / 家人可享 cell ('被保险人+指定3名直系亲属 直系亲属可用服务1次/年'),
    or None when only the insured may use the service."""
    s = squash(text)
    mm = re.search(r"指定(\d+)名(?:以内)?(?:直系亲属|家人)", s)
    if not mm:
        return None
    fam: dict[str, Any] = {"max_members": int(mm.group(1)), "shared_with": "immediate_relatives"}
    tail = s[mm.end():]
    _inc, lim, per = entitlement_cell(tail) if re.search(r"\d+次|[不无]限次", tail) else (True, None, None)
    fam["usage_limit"], fam["usage_period"] = lim, per
    if ex := re.search(r"[（(]([^）)]+?)无次数限制[）)]", s):
        fam["unlimited_services"] = [ex.group(1)]
    return fam


# -- contacts -----------------------------------------------------------------------------------------

_PHONE = re.compile(r"(?<!\d)(95\d{3}|400-?\d{3}-?\d{4})(?!\d)")
_WECHAT = re.compile(r"“([^”]+)”(?:官方)?微信(?:号|公众号)")
_WECHAT_PATH = re.compile(r"微信公众号((?:\s*[-—]\s*[^\s\-—，。]+)+)")
_PATH_TAIL = re.compile(r"(提交|申请|咨询|查询|办理).*$")
_STAFFED_HOURS = re.compile(r"人工服务时间[：:]\s*([^。]+)")
EMAIL = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def contacts_in(line: str) -> list[tuple[str, str, str]]:
    """(kind, label, value) of the contacts a line names, in this order: hotlines (95xxx, 400 numbers;
    "中文服务转 N" goes into the label), “名称”微信公众号 accounts, 微信公众号-菜单-项目 menu paths
    (without the closing verb), 人工服务时间 hours."""
    out: list[tuple[str, str, str]] = []
    transfer = contact_label("transfer")
    for mm in _PHONE.finditer(line):
        ext = re.match(rf"\s*{transfer}\s*(\d)", line[mm.end():])
        out.append(("phone", contact_label("hotline") + (f"（{transfer} {ext.group(1)}）" if ext else ""), mm.group(1)))
    for mm in _WECHAT.finditer(line):
        out.append(("wechat", contact_label("wechat_account"), mm.group(1)))
    for mm in _WECHAT_PATH.finditer(line):
        parts = [p.strip() for p in re.split(r"[-—]", mm.group(1)) if p.strip()]
        parts[-1] = _PATH_TAIL.sub("", parts[-1])
        path = "-".join(p for p in parts if p)
        if path:
            out.append(("wechat", contact_label("wechat_menu"), path))
    for mm in _STAFFED_HOURS.finditer(line):
        out.append(("hours", contact_label("staffed_hours"), clean(mm.group(1))))
    return out
