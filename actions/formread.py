"""What one customer message gives a form, read from the whole message.

The NLU's entity spans cut times short (下周四上午10点 -> 下周四) and Rasa's from_text mappings put the
whole message into the requested slot. Here the message is read as a whole: its time (jionlp's time
extractor, relative to the Beijing clock), what is left once the time is taken out, a correction
("城市改成杭州", "不是我妈，是我爸"), and whether the customer leaves, resumes or wants to try again.
The words are data (actions/forms.yaml).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from rasa_sdk import Tracker

from core.clock import CHINA_TZ, now_china
from actions.timeparse import weeks_ahead

DATA = Path(__file__).with_name("forms.yaml")
NO_HOSPITAL = "不指定"  # the hospital slot's value when the customer names none (or is served at home)
QUESTION = re.compile(r"[?？]|吗|呢|么|能不能|可不可以|是否|有没有|哪些|哪家|哪个|什么|怎么|多少|几[家个次天]|要钱")
_PUNCT = " ，,。.!！;；、~～"


@dataclass(frozen=True)
class Vocab:
    exit: tuple[re.Pattern, ...]
    resume: tuple[re.Pattern, ...]
    yes: tuple[re.Pattern, ...]
    retry: tuple[str, ...]
    no_hospital: re.Pattern
    x_sounds: tuple[str, ...]
    correction: tuple[re.Pattern, ...]
    fields: dict[str, str]  # field word -> slot
    verifier_cue: re.Pattern
    same_contact: tuple[re.Pattern, ...]
    at_home: re.Pattern
    self_intro: re.Pattern
    names_other: re.Pattern
    service_switch: re.Pattern
    hospital_suffix: str
    hospital_lead: re.Pattern
    recap: re.Pattern
    served_at_home: re.Pattern
    contact_cue: re.Pattern
    hospital_any: re.Pattern
    self_served: re.Pattern
    not_a_time: frozenset[str]
    unchanged: re.Pattern
    contact_unchanged: re.Pattern


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    d = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    fields = {w: slot for slot, words in d["fields"].items() for w in words}
    return Vocab(tuple(map(re.compile, d["exit"])), tuple(map(re.compile, d["resume"])),
                 tuple(map(re.compile, d["agree"])), tuple(d["retry"]), re.compile(d["no_hospital"]),
                 tuple(sorted(d["x_sounds"], key=len, reverse=True)),
                 tuple(map(re.compile, d["correction"])), fields, re.compile(d["verifier_cue"]),
                 tuple(map(re.compile, d["same_contact"])), re.compile(d["at_home"]),
                 re.compile(d["self_intro"]), re.compile(d["names_other"]), re.compile(d["service_switch"]),
                 d["hospital_suffix"], re.compile(d["hospital_lead"]), re.compile(d["recap"]),
                 re.compile(d["served_at_home"]), re.compile(d["contact_cue"]),
                 re.compile(d["hospital_any"]), re.compile(d["self_served"]), frozenset(d["not_a_time"]),
                 re.compile(d["unchanged"]), re.compile(d["contact_unchanged"]))


def raw_text(tracker: Tracker) -> str:
    """The latest message as typed ('' for a button payload such as /inform{...})."""
    raw = str((tracker.latest_message or {}).get("text") or "")
    return "" if raw.startswith("/") else raw


def user_text(tracker: Tracker) -> str:
    """The latest message as the layer reads it (spoken digits, full-width, fillers: assist.text)."""
    from assist.text import normalise

    raw = raw_text(tracker)
    return normalise(raw) if raw else ""


def intent_of(tracker: Tracker) -> str:
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def is_exit(text: str) -> bool:
    return bool(text) and len(text) <= 20 and any(p.search(text) for p in vocab().exit)


def is_resume(text: str) -> bool:
    return bool(text) and any(p.search(text) for p in vocab().resume)


def is_yes(text: str) -> bool:
    return bool(text) and any(p.search(text) for p in vocab().yes)


def verifier_in(text: str) -> str | None:
    """The proof of identity a message states with its cue ("手机13900000001", "身份证后四位073X",
    spoken digits too), or None."""
    from assist.text import normalise

    t = normalise(text or "")
    for m in vocab().verifier_cue.finditer(t):
        mobile = re.match(r"1\d{10}(?!\d)", t[m.end():])
        if mobile:
            return mobile.group(0)
        last4 = re.match(r"\d{3}[\dXx](?![\dA-Za-z])", t[m.end():])
        if last4 and re.search(r"后[四4]位|尾号|末[四4]位", m.group(0)):
            return last4.group(0).upper()
    from assist.text import digits_only

    raw = unicodedata.normalize("NFKC", text or "")  # digits said in groups: 幺三九 零零零零 零零零五
    for m in vocab().verifier_cue.finditer(raw):
        said = re.match(r"[\d零〇洞一幺二两三四五六七八九\s,，\-]{11,30}", raw[m.end():])
        digits = digits_only(said.group(0)) if said else ""
        if len(digits) == 11 and digits.startswith("1"):
            return digits
    return None


def bare_mobile_in(text: str) -> str | None:
    """The one mobile a message gives without a cue and not as the contact phone, or None."""
    from assist.text import normalise
    from core.ids import is_mobile

    t = normalise(text or "")
    contact = contact_mobile_in(text)
    found = [m for m in re.findall(r"(?<!\d)1\d{10}(?!\d)", t) if is_mobile(m) and m != contact]
    return found[0] if len(found) == 1 else None


def self_named(raw: str, start: int | None) -> bool:
    """The name at `start` follows "我是/我叫": the speaker, not (necessarily) the person served."""
    return isinstance(start, int) and bool(vocab().self_intro.search((raw or "")[:start]))


def other_named(text: str) -> tuple[str, int, int] | None:
    """(name, start, end) of someone else named in the message ("她叫李娜"), or None."""
    m = vocab().names_other.search(text or "")
    return (m.group("name"), m.start("name"), m.end("name")) if m else None


def switches_service(text: str) -> bool:
    return bool(vocab().service_switch.search(text or ""))


def hospital_phrase(text: str) -> tuple[str, int, int] | None:
    """(hospital-shaped words, start, end) of the first clause that names a hospital, or None:
    '给我爸约陪诊，苏州市第九人民医院，…' -> '苏州市第九人民医院'."""
    v = vocab()
    for m in re.finditer(r"[^，,。;；!！?？\s]+", text or ""):
        clause = m.group(0)
        hit = re.search(rf"[\u4e00-\u9fff（）()A-Za-z0-9]{{2,30}}?{v.hospital_suffix}", clause)
        if not hit:
            continue
        words = hit.group(0)
        lead = v.hospital_lead.match(words[:-2])
        if lead:
            words = words[lead.end():]
        if len(words) >= 4:
            start = m.start() + hit.end() - len(words)
            return words, start, start + len(words)
    return None


def served_at_home(svc) -> bool:
    """The service comes to the customer's home (术后上门护理, 专业医护上门安排): no hospital to choose."""
    return svc is not None and bool(vocab().served_at_home.search(f"{svc.name}。{svc.description or ''}"))


def contact_mobile_in(text: str) -> str | None:
    """A mobile the message gives as the contact phone ("联系人电话留15900001111"), or None."""
    from assist.text import normalise
    from core.ids import is_mobile

    t = normalise(text or "")
    t = re.sub(r"(?<=\d)[\s\-]+(?=\d)", "", t)  # said in groups: 186 0000 1234
    for m in re.finditer(r"(?<!\d)1\d{10}(?!\d)", t):
        if is_mobile(m.group(0)) and vocab().contact_cue.search(t[:m.start()]):
            return m.group(0)
    return None


def for_self(text: str) -> bool:
    """The message says the service is for the speaker ("是给我本人看")."""
    return bool(vocab().self_served.search(text or ""))


def any_hospital(text: str) -> bool:
    """"医院随便你们挑": the customer names no hospital."""
    return bool(vocab().hospital_any.search(text or ""))


def city_in_text(text: str) -> tuple[str, int, int] | None:
    """(city, start, end) of the one city a message names ('在广州天河那边' -> '广州'), or None when it names
    none or several."""
    from knowledge import geo

    found = [(a, b, res) for a, b, res in geo.find_cities(text or "") if res.status == "ok" and res.city]
    cities = {res.city.short for _a, _b, res in found}
    if len(cities) != 1:
        return None
    a, b, res = found[0]
    return res.city.short, a, b


def is_recap(text: str) -> bool:
    return bool(text) and len(text) <= 30 and bool(vocab().recap.search(text))


def keeps_contact(text: str) -> bool:
    """"…，时间电话不变": the contact phone already given stays."""
    return bool(vocab().contact_unchanged.search(text or ""))


def same_contact(text: str) -> bool:
    """The customer says the contact phone is the number just given."""
    return bool(text) and any(p.search(text) for p in vocab().same_contact)


def is_retry(text: str) -> bool:
    return bool(text) and any(w in text for w in vocab().retry)


def is_question(text: str) -> bool:
    return bool(QUESTION.search(text or ""))


def no_hospital(text: str) -> bool:
    return bool(vocab().no_hospital.match(text or ""))


def at_home(text: str) -> bool:
    """The customer is served at home (上门, 在家里): there is no hospital to choose."""
    return bool(vocab().at_home.search(text or ""))


_CLOCK = re.compile(r"\d+\s*[点时:：]|[点时]半|[上下]午|早上|晚上|中午|傍晚|凌晨")
_DAY = re.compile(r"[天日号周月]|星期|礼拜|明|今")
_SAME_DAY = re.compile(r"^(?:当天|当日|那天|那日|同一天)")  # the day said before (手术当天早上7点)


def clock_only(phrase: str) -> str:
    """The clock time of a phrase that names no day of its own ('当天上午8点开始' -> '上午8点'), or ''."""
    p = _SAME_DAY.sub("", phrase or "")
    m = re.match(r"(?:[上下]午|早上|晚上|中午|傍晚|凌晨)?\s*\d+\s*[点时:：]?\s*(?:半|\d+分?)?", p)
    if not p or _DAY.search(p) or not _CLOCK.search(p) or not m or not m.group(0).strip():
        return ""
    return m.group(0).strip()


def time_parts(text: str, now: datetime | None = None) -> tuple[str, ...]:
    """The time expressions that make up the message's time: one ('下周三上午9点'), or a day and a clock
    time said apart ('5天后…早上7点半', '下周三，上午9点半')."""
    s = (text or "")[:120]
    if not s or not re.search(r"[周星礼月号日点时天午晚早明后今:：]|\d{4}-\d", s):
        return ()
    now = now or now_china()
    s, subs = weeks_ahead(s)
    try:
        import jionlp as jio

        found = jio.ner.extract_time(s, time_base=now.astimezone(CHINA_TZ).replace(tzinfo=None), with_parsing=True)
    except Exception:
        return ()
    base = now.astimezone(CHINA_TZ).replace(tzinfo=None)
    points = [str(f["text"]).strip() for f in found or []
              if (f.get("detail") or {}).get("type") in ("time_point", "time_span") and f.get("text")
              and _at_most_a_day((f.get("detail") or {}).get("time"))  # not 今年, 这个月
              and not _before((f.get("detail") or {}).get("time"), base)  # not 两天前: no booking time
              and str(f["text"]).strip() not in vocab().not_a_time]  # 现在在上海看: not a time to book
    for new, old in subs:  # each phrase as the customer said it, so that it can be found and taken out
        points = [old + p[len(new):] if p.startswith(new) else p for p in points]
    if not points:
        return ()
    first = points[0]
    if not _CLOCK.search(first):
        clock = next((p for p in points[1:] if clock_only(p)), None)
        if clock:
            return first, clock
        full = next((p for p in points[1:] if _CLOCK.search(p) and first in p), None)
        if full:  # "下下周一住院…从下下周一早上8点开始": the same day again, now with its time
            return (re.sub(r"^(从|自)|(开始|起)$", "", full),)
    return (first,)


def _at_most_a_day(span) -> bool:
    """jionlp's [start, end] spans one day or less (a time_span may be open: '-inf')."""
    try:
        a, b = (datetime.fromisoformat(str(x)) for x in span)
    except (TypeError, ValueError):
        return True
    return (b - a).total_seconds() <= 86400


def _before(span, base: datetime) -> bool:
    """jionlp's span ends before the day of `base` (两天前, 上周三): a past day, not a time to book."""
    try:
        end = datetime.fromisoformat(str(span[1]))
    except (TypeError, ValueError, IndexError):
        return False
    return end.date() < base.date()


def time_phrase(text: str, now: datetime | None = None) -> str:
    """The message's time ('' when there is none): '北京协和医院，下周三上午9点' -> '下周三上午9点';
    a day and a clock time said apart are joined ('5天后…早上7点半到' -> '5天后早上7点半', '下周四…手术当天
    早上7点' -> '下周四早上7点')."""
    return _joined(time_parts(text, now))


def _joined(parts: tuple[str, ...]) -> str:
    """The time parts as one phrase: a clock time said apart keeps only its clock ('当天上午8点开始' -> '上午8点')."""
    return "".join(clock_only(p) or p if i else p for i, p in enumerate(parts))


def without(text: str, phrase: str) -> str:
    """The message with the time taken out and nothing but punctuation around what is left."""
    if phrase and phrase not in text:
        parts = time_parts(text)  # a day and a clock time said apart: each taken out where it stands
        s = text
        for p in parts if _joined(parts) == phrase else ():
            s = s.replace(p, " ", 1)
    else:
        s = text.replace(phrase, " ", 1) if phrase else text
    s = re.sub(r"(时间|日期)?(改成|改为|改到|换成|换到|调到|定在|约在|安排在)|的时候|这个时间|吧$", " ", s)
    parts = [p.strip(_PUNCT) for p in re.split(r"[，,。;；\s]+", s)]
    return "，".join(p for p in parts if p)


def correction(text: str) -> tuple[str | None, str]:
    """(slot the customer names or None, the new value's text) of a correction; (None, '') when the message
    corrects nothing."""
    found = corrections(text)
    return found[0] if found else (None, "")


def corrections(text: str) -> list[tuple[str | None, str]]:
    """Every correction of a message, the first as correction() reads it: "不是我老婆，是我女儿宋佳怡，医院改成
    北京儿童医院，时间电话不变" -> [(None, '我女儿宋佳怡'), ('hospital', '北京儿童医院')]. A later part counts
    only when it names its field; "…不变" ends the value before it."""
    for p in vocab().correction:
        m = p.search(text or "")
        if not m:
            continue
        new = m.group("new").strip(_PUNCT)
        if not new:
            continue
        head, *rest = re.split(r"[，,。；;]", new)
        kept, more, ended = [head], [], False
        for part in rest:
            named = _field_correction(part)
            ended = ended or bool(named or vocab().unchanged.search(part))
            if named:
                more.append(named)
            elif not ended:
                kept.append(part)
        return [(_slot_of(m.groupdict().get("field")), "，".join(x for x in kept if x.strip(_PUNCT)).strip(_PUNCT))] + more
    return []


def _slot_of(field: str | None) -> str | None:
    field = (field or "").strip(_PUNCT)
    return next((s for w, s in sorted(vocab().fields.items(), key=lambda x: -len(x[0])) if field.endswith(w)),
                None) if field else None


def _field_correction(part: str) -> tuple[str, str] | None:
    """("hospital", "北京儿童医院") of "医院改成北京儿童医院": a part that names the field it changes."""
    m = vocab().correction[1].search(part.strip(_PUNCT))
    slot = _slot_of(m.group("field")) if m else None
    return (slot, m.group("new").strip(_PUNCT)) if m and slot and m.group("new").strip(_PUNCT) else None


def spoken_x(text: str) -> str:
    """'零七三叉' -> '零七三X': the letter X of an ID number said aloud."""
    for w in vocab().x_sounds:
        text = text.replace(w, "X")
    return text


def looks_like_policy_number(text: str) -> bool:
    """6-32 letters, digits and dashes with at least four digits: '我本人' or '确认' is never a policy number."""
    s = re.sub(r"[\s\-—]", "", text or "")
    return bool(re.fullmatch(r"[A-Za-z0-9]{6,32}", s)) and sum(c.isdigit() for c in s) >= 4


def spoken_policy_number(text: str) -> str:
    """A policy number as typed or said: full-width, spaces, 幺/两/零 digits -> 'PAH2025000101'."""
    from assist.text import normalise

    s = normalise(re.sub(r"\s+", "", text or ""))
    s = re.sub(r"^(我的)?(保单号|保单|单号)(是|为)?[:：]?", "", s)
    return re.sub(r"[\s,，\-—]", "", s).upper()


def policy_number_in(text: str) -> str:
    """The policy-number-shaped part of a message that gives more ('保单 P A H 二零二五…，手机…'), or ''."""
    from core.ids import is_mobile

    s = spoken_policy_number(text)
    for m in re.finditer(r"[A-Z]{1,6}\d{6,}[A-Z0-9]*|\d{8,}", s):
        if not is_mobile(m.group(0)) and looks_like_policy_number(m.group(0)):
            return m.group(0)
    return ""
