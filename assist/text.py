"""Customer text made readable for the rest of the layer: chat, widget and hotline transcripts alike.

normalise(): half-width, simplified characters, Arabic digits for numbers said in words (二十天 ->
20天, 两次 -> 2次, 幺三九… -> 139…), fillers dropped (喂 你好 我想问一下 那个 …), pauses (spaces in a
transcript) turned into commas. digits_only(): the digits of a number said or typed any way.
"""
from __future__ import annotations

import re
import unicodedata

from assist.lexicon import lexicon

MAX_CHARS = 500

_DIGIT = {"零": 0, "〇": 0, "洞": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_SEQ = re.compile(r"[零〇洞一幺二两三四五六七八九0-9]{3,}")  # digit by digit: a phone, a policy number
_NUM = re.compile(r"[零〇一二两三四五六七八九十百千]+(?:[万亿][零〇一二两三四五六七八九十百千]*)?")
# 一 / 两 / 十 that are words, not numbers (一般, 一起, 两个人 stays 2个人 which is fine)
_NOT_NUMBER_AFTER = set("般起下些样直定旦切体致同共边点向再律概会方面时手生路天到早晚辈届系份半")
_NOT_NUMBER_BEFORE = set("统唯万划第星周礼")


def cn_number(s: str) -> int | None:
    """一百二十 -> 120, 两万 -> 20000, 十五 -> 15; None when s is not a number."""
    if not s:
        return None
    if all(c in _DIGIT for c in s):
        return int("".join(str(_DIGIT[c]) for c in s))
    total = section = num = 0
    for c in s:
        if c in _DIGIT:
            num = _DIGIT[c]
        elif c in _UNIT:
            section += (num or 1) * _UNIT[c]
            num = 0
        elif c in _BIG:
            total += (section + num) * _BIG[c]
            section = num = 0
        else:
            return None
    return total + section + num


def _seq(m: re.Match) -> str:
    s = m.group(0)
    if len(s) < 3 or not any(c in "幺洞" or c.isdigit() for c in s) and len(s) < 4:
        return s
    return "".join(str(_DIGIT[c]) if c in _DIGIT else c for c in s)


def _num(m: re.Match) -> str:
    s, text, a, b = m.group(0), m.string, m.start(), m.end()
    if len(s) == 1 and s in "一两十":
        nxt = text[b] if b < len(text) else ""
        prev = text[a - 1] if a > 0 else ""
        counted = nxt == "天" and s in "两十"  # 十天前, 两天了: a count of days (一天 stays: 一天到晚)
        if (nxt in _NOT_NUMBER_AFTER and not counted) or prev in _NOT_NUMBER_BEFORE or (s == "一" and not nxt):
            return s
    n = cn_number(s)
    return str(n) if n is not None else s


def to_digits(text: str) -> str:
    """Numbers said in Chinese -> Arabic digits, leaving words like 一般 / 一起 and place names with a
    numeral (四川, 三亚, 十堰) alone."""
    text = _SEQ.sub(_seq, text)
    keep = _numeral_places()
    if keep is None or not keep.search(text):
        return _NUM.sub(_num, text)
    out, pos = [], 0
    for m in keep.finditer(text):
        out.append(_NUM.sub(_num, text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_NUM.sub(_num, text[pos:]))
    return "".join(out)


_PLACES: list = []
_UNIT_AFTER = "元块天次个年月周岁小万家名位分点号日届份"


def _numeral_places():
    """Place names holding a numeral: the longer ones, and two-character names of a city or province
    (四川, 三亚, not 三元 of 三元区, never before a unit: 三元钱)."""
    if not _PLACES:
        try:
            from knowledge import geo

            ix = geo._index()
            forms = set(ix.forms) | set(ix.provinces)
        except Exception:  # pragma: no cover - no place tables: numbers only
            forms = set()
        names = {k for k in forms if re.search(r"[一二两三四五六七八九十]", k) and (
            len(k) >= 3 or f"{k}市" in forms or f"{k}省" in forms)}
        _PLACES.append(re.compile("(?:" + "|".join(sorted(map(re.escape, names), key=len, reverse=True))
                                  + f")(?![{_UNIT_AFTER}])") if names else None)
    return _PLACES[0]


def simplified(text: str) -> str:
    try:
        import jionlp as jio

        return jio.tra2sim(text, mode="char")
    except Exception:  # pragma: no cover - jionlp missing: leave the text as it is
        return text


def drop_fillers(text: str) -> str:
    """Fillers at the start of each spoken segment (喂 你好 我想问一下 那个 …)."""
    parts = re.split(r"([\s,，。！!？?、]+)", text)
    out = []
    for p in parts:
        q = p
        changed = True
        while changed and q:
            changed = False
            for f in lexicon().fillers:
                if q.startswith(f) and len(q) >= len(f):
                    q = q[len(f):]
                    changed = True
                    break
        out.append(q)
    return "".join(out)


def normalise(text: str) -> str:
    """The customer's message as the layer reads it (see module doc)."""
    s = unicodedata.normalize("NFKC", (text or "")[:MAX_CHARS])
    s = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", "", s)
    s = _SEQ.sub(_seq, s)  # before simplification: it would read 幺 as 么
    s = simplified(s)
    s = drop_fillers(s)
    s = to_digits(s)
    s = re.sub(r"(?<=[\u4e00-\u9fff\d])\s+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff\d])", "，", s)
    s = re.sub(r"\s+", " ", s).strip(" ，,")
    s = re.sub(r"[，,]{2,}", "，", s)
    return s


def digits_only(text: str) -> str:
    """All the digits of a number however it was given: 幺三九 零零零零 零零零幺 / １３９… / 139-0000-0001."""
    s = unicodedata.normalize("NFKC", text or "")
    s = "".join(str(_DIGIT[c]) if c in _DIGIT and c not in "十百千万" else c for c in s)
    return re.sub(r"[^0-9Xx]", "", s).upper()


def compact(text: str) -> str:
    """For matching: no spaces or punctuation, lower-case Latin."""
    return re.sub(r"[\s,，.。!！?？、;；:：\"“”'‘’()（）\[\]【】《》<>·~～\-—_/|]+", "", text or "").lower()
