"""Scoring of the blind sets (bench/blind/): what counts as a correct reply.

Kept apart from the product's own text handling on purpose: the judge normalises with its own
small tables, so a bug in the assistant's normaliser cannot hide in the score.

A reply is correct when
- every `must` group has one alternative in the reply (after normalisation);
- no `must_not` string is in it;
- an answerable turn does not say the manuals are silent (except a coverage turn whose expected
  status is `unknown`, where saying the manual gives no list is the answer);
- an unanswerable turn says the manuals do not say and offers the hotline or a human;
- `decision` and `coverage` match the verdict the reply states first (VERDICTS below);
- an answerable fact turn names at least one source of the expected manual.
"""
from __future__ import annotations

import re
import unicodedata

# -- normalisation -------------------------------------------------------------------
_DIGIT = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_NUM = re.compile(r"[零〇一二两三四五六七八九十百千]+(?:[万亿][零〇一二两三四五六七八九十百千]*)?")
_PUNCT = re.compile(r"[\s\u3000,，.。、;；:：!！?？\"“”'‘’()（）\[\]【】《》<>〈〉·•…—\-~～/|*#]+")
_TRAD = str.maketrans("診務醫險療費護藥為與體檢後關會說約號時間點週請選單這個們嗎還麼夠錢陪證機構種額對應歲確認",
                      "诊务医险疗费护药为与体检后关会说约号时间点周请选单这个们吗还么够钱陪证机构种额对应岁确认")


def cn_to_int(s: str) -> int | None:
    """一百二十 -> 120, 两万 -> 20000, 三 -> 3, 一二三 -> 123 (digit by digit)."""
    if not s:
        return None
    if all(c in _DIGIT for c in s):
        return int("".join(str(_DIGIT[c]) for c in s)) if len(s) > 1 else _DIGIT[s]
    total, section, num = 0, 0, 0
    for c in s:
        if c in _DIGIT:
            num = _DIGIT[c]
        elif c in _UNIT:
            section += (num or 1) * _UNIT[c]
            num = 0
        elif c in _BIG:
            total += (section + num) * _BIG[c]
            section, num = 0, 0
        else:
            return None
    return total + section + num


def _num_sub(m: re.Match) -> str:
    s = m.group(0)
    if s in ("一", "两") and m.end() < len(m.string) and m.string[m.end()] in "些点下起般直共样同定致切旦体":
        return s  # 一些, 一般, 一起 ... are not numbers
    n = cn_to_int(s)
    return str(n) if n is not None else s


def normalise(text: str) -> str:
    """Full-width -> half-width, traditional -> simplified (common characters), Chinese numerals ->
    Arabic, spaces and punctuation removed, Latin lower-cased."""
    s = unicodedata.normalize("NFKC", text or "").translate(_TRAD)
    s = _CN_NUM.sub(_num_sub, s)
    s = re.sub(r"(?<=\d),(?=\d{3})", "", s)
    return _PUNCT.sub("", s).lower()


# -- verdicts --------------------------------------------------------------------------
NOT_IN_MANUAL = re.compile(
    r"手册(里|中|上|内)?(并)?(没有|没|未|不)(有)?(写|提到|提及|说明|写明|列出|列明|给出|规定|明确|说)"
    r"|没有在手册|手册没有相关|手册里找不到|手册中找不到")
OFFERS_HELP = re.compile(r"转人工|人工客服|客服电话|热线|\d{5,}|\d{3,4}-\d{3,8}")

# the first verdict phrase in the reply is the one it states
VERDICTS = {
    "decision": {
        "yes": r"(?<![不没])(可以使用|可以申请|可以用|能用|能使用|能申请|符合条件|可以享受|能享受)",
        "no": r"不能使用|不能申请|不能用|用不了|不可以|不符合|还不能|无法使用|不能享受|不包含|不享有|不在.{0,12}范围",
        "depends": r"要看|取决于|分情况|还需要确认|需要确认|视情况|不一定|如果.{0,30}(就|则|才)",
    },
    "coverage": {
        "covered": r"(?<![不没])在.{0,24}(服务范围内|清单里|清单内|名单里|名单内|列表里|范围内)|全国范围|全国都可以|已覆盖|覆盖了",
        "partial": r"只有.{0,20}(下辖|县|市|区)|仅有.{0,20}(下辖|县|市|区)|下辖的|部分(区县|地区|县市)",
        "not_covered": r"不在.{0,24}(范围|清单|名单|列表)|没有.{0,12}(城市|医院|名单|清单)|暂时用不了|暂未覆盖|不覆盖|没有覆盖",
        "unknown": r"没有列出|没有给出.{0,10}(清单|名单|列表)|无法确认|没能确认|没法确认|没有(城市|医院)清单",
    },
}


def stated(kind: str, text: str) -> str | None:
    """The verdict of `kind` the reply states first, or None."""
    best: tuple[int, str] | None = None
    for verdict, rx in VERDICTS[kind].items():
        m = re.search(rx, text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), verdict)
    return best[1] if best else None


def judge_turn(exp: dict, text: str, sources: list[dict] | None) -> list[str]:
    """Problems with one reply (empty = correct). `exp` holds the writer's must / must_not /
    answerable / decision / coverage / source keys."""
    problems: list[str] = []
    norm = normalise(text)
    for group in exp.get("must") or []:
        alts = group if isinstance(group, list) else [group]
        if not any(normalise(str(a)) and normalise(str(a)) in norm for a in alts):
            problems.append(f"missing {alts}")
    for bad in exp.get("must_not") or []:
        b = normalise(str(bad))
        if b and b in norm:
            problems.append(f"contains forbidden “{bad}”")
    answerable = exp.get("answerable", True) is not False
    cov = exp.get("coverage")
    silent = bool(NOT_IN_MANUAL.search(text))
    if answerable and silent and cov != "unknown":
        problems.append("says the manual does not say")
    if not answerable:
        if not silent:
            problems.append("does not say the manual is silent")
        if not OFFERS_HELP.search(text):
            problems.append("offers neither hotline nor human")
    for kind in ("decision", "coverage"):
        want = exp.get(kind)
        if want:
            got = stated(kind, text)
            if got != want:
                problems.append(f"{kind} {got or 'not stated'} (expected {want})")
    src = exp.get("source") or {}
    manual = str(src.get("manual") or "") if isinstance(src, dict) else ""
    facts = answerable and (exp.get("must") or exp.get("decision") or cov in ("covered", "not_covered", "partial"))
    if facts and manual and sources is not None:  # None: a channel without citations (IVR speech)
        if not any(str(s.get("manual_id", "")).startswith(manual) for s in sources):
            problems.append(f"no source from manual {manual}")
    return problems


def cites_lines(exp: dict, sources: list[dict] | None) -> bool | None:
    """Does a source overlap the writer's lines (reported, not scored)? None when not applicable."""
    src = exp.get("source") or {}
    lines = src.get("lines") if isinstance(src, dict) else None
    if not lines or len(lines) < 1 or sources is None:
        return None
    a, b = int(lines[0]), int(lines[-1])
    manual = str(src.get("manual") or "")
    return any(str(s.get("manual_id", "")).startswith(manual) and s.get("line_start", 0) <= b + 2
               and s.get("line_end", 0) >= a - 2 for s in sources)
