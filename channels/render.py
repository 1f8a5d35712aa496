"""The one place where channel-neutral bot answers become WeChat text, widget messages or IVR speech.

Rasa's REST channel returns a list of bot messages. Each may carry `text`, `buttons`
([{"title", "payload"}]) and `custom` = {"answer": {"kind", "text", "items", "options", "sources"}}.
`collect()` merges them into an Answer; `wechat()`, `widget()` and `ivr()` render it. Pure functions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

WECHAT_LIMIT = 2048        # bytes of one WeChat text message
WECHAT_MAX_ITEMS = 30      # a longer list is cut with a count (the full list is in the widget/SMS)
IVR_MAX_ITEMS = 3          # lists longer than this are summarised on the phone
IVR_MAX_OPTIONS = 7        # digits 1..7; 8 = SMS the list, 9 = repeat, 0 = agent
MISUNDERSTOOD_KINDS = {"clarify", "fallback", "nlu_fallback", "not_understood", "default"}
HANDOFF_KINDS = {"handoff", "human_handoff", "transfer"}
GOODBYE_KINDS = {"goodbye", "end", "bye"}


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


@dataclass
class Block:
    text: str = ""
    kind: str | None = None
    items: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    unit: str | None = None     # measure word for counting items (家, 个城市), when the action gives one


@dataclass
class Answer:
    blocks: list[Block] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return [b.kind for b in self.blocks if b.kind]

    @property
    def empty(self) -> bool:
        return not any(b.text or b.items for b in self.blocks)

    def is_(self, kinds: set[str]) -> bool:
        return any(k in kinds for k in self.kinds)


def _str(value, limit: int = 4000) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def item_label(item) -> str:
    """An answer item as one line: a string, or a dict's title/name/label/text (plus city when given)."""
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, dict):
        for key in ("title", "name", "label", "text"):
            label = _str(item.get(key), 300)
            if label:
                value = _str(item.get("value"), 200)
                if value and value not in label:
                    return f"{label}：{value}"
                extra = _str(item.get("detail") or item.get("city"), 100)
                return f"{label}（{extra}）" if extra and extra not in label else label
    return ""


def _options(raw) -> list[Option]:
    out = []
    for b in raw if isinstance(raw, list) else []:
        if isinstance(b, dict):
            title, payload = _str(b.get("title"), 100), _str(b.get("payload"), 500)
            if title and (payload or title):
                out.append(Option(title, payload or title))
    return out


def _cites(raw) -> list[str]:
    out = []
    for s in raw if isinstance(raw, list) else []:
        cite = _str(s.get("cite"), 300) if isinstance(s, dict) else _str(s, 300)
        if cite:
            out.append(cite)
    return out


def collect(messages: list[dict]) -> Answer:
    """Merge Rasa's bot messages into one Answer (text and custom answer of one utterance become one block)."""
    ans = Answer()
    for m in messages or []:
        if not isinstance(m, dict):
            continue
        text = _str(m.get("text"))
        if text:
            ans.blocks.append(Block(text=text))
        custom = m.get("custom")
        a = custom.get("answer") if isinstance(custom, dict) else None
        if isinstance(a, dict):
            a_text = _str(a.get("text"))
            # Rasa sends utter_message(text=..., json_message=...) as two messages: merge them.
            # The text part may carry the citations appended ("…\n（来源：…）"): the answer's own text is
            # kept and its sources are rendered by each channel.
            last = ans.blocks[-1] if ans.blocks else None
            same = last is not None and not last.kind and not last.items and \
                (not a_text or last.text == a_text or last.text.startswith(a_text))
            block = last if same else Block(text=a_text)
            if same and a_text:
                block.text = a_text
            if not same:
                ans.blocks.append(block)
            block.kind = _str(a.get("kind"), 50) or None
            block.items = [x for x in (item_label(i) for i in (a.get("items") or [])
                                       if isinstance(a.get("items"), list)) if x]
            block.sources = _cites(a.get("sources"))
            block.unit = _str(a.get("unit"), 10) or None
            a_options = _options(a.get("options"))
            titles = {o.title for o in a_options}
            block.items = [x for x in block.items if x not in titles]  # listed once, as options
            ans.options.extend(a_options)
        ans.options.extend(_options(m.get("buttons")))
    seen, opts = set(), []
    for o in ans.options:  # the same option from buttons and from the answer shows once
        if o.payload not in seen:
            seen.add(o.payload)
            opts.append(o)
    ans.options = opts
    return ans


def unique_sources(answer: Answer) -> list[str]:
    return list(dict.fromkeys(s for b in answer.blocks for s in b.sources))


# ---------------------------------------------------------------- WeChat

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


def utf8_len(s: str) -> int:
    return len(s.encode("utf-8"))


def _pieces(text: str, limit: int) -> list[str]:
    """Cut text into pieces that fit, preferring paragraph, then line, then sentence, then comma boundaries."""
    if utf8_len(text) <= limit:
        return [text]
    for sep, keep in (("\n\n", True), ("\n", True), (None, False), ("，", True)):
        parts = (_SENTENCE_END.split(text) if sep is None else
                 [p + sep for p in text.split(sep)[:-1]] + [text.split(sep)[-1]])
        parts = [p for p in parts if p]
        if len(parts) > 1:
            return [q for p in parts for q in _pieces(p, limit)]
    out, cur = [], ""  # one unbroken run: cut by characters
    for ch in text:
        if utf8_len(cur + ch) > limit:
            out.append(cur)
            cur = ""
        cur += ch
    return out + ([cur] if cur else [])


def split_text(text: str, limit: int = WECHAT_LIMIT) -> list[str]:
    """Messages of at most `limit` UTF-8 bytes, cut at paragraph/line/sentence boundaries."""
    chunks, cur = [], ""
    for piece in _pieces(text.strip(), limit):
        if cur and utf8_len(cur + piece) > limit:
            chunks.append(cur)
            cur = ""
        cur += piece
    if cur:
        chunks.append(cur)
    return [c.strip() for c in chunks if c.strip()]


def _list_lines(block: Block, numbered: bool = False, cap: int = WECHAT_MAX_ITEMS) -> list[str]:
    lines = [f"{'%d.' % (i + 1) if numbered else '·'} {x}" for i, x in enumerate(block.items[:cap])]
    if len(block.items) > cap:
        lines.append(f"……共 {len(block.items)} {block.unit or '项'}，以上是前 {cap} {block.unit or '项'}。")
    return lines


def wechat_text(answer: Answer) -> str:
    """One text for WeChat: paragraphs, bullet lists, source lines, then numbered options."""
    paras = []
    for b in answer.blocks:
        lines = [b.text] if b.text else []
        lines += _list_lines(b)
        if lines:
            paras.append("\n".join(lines))
    sources = unique_sources(answer)
    if sources:
        paras.append("\n".join(f"来源：{s}" for s in sources))
    if answer.options:
        paras.append("回复数字选择：\n" + "\n".join(f"{i + 1}. {o.title}" for i, o in enumerate(answer.options)))
    return "\n\n".join(paras)


def wechat(answer: Answer, limit: int = WECHAT_LIMIT) -> list[str]:
    """WeChat text messages (each within the byte limit). The options are answer.options, numbered from 1."""
    return split_text(wechat_text(answer), limit)


# ---------------------------------------------------------------- widget

def widget(answer: Answer) -> dict:
    """{"messages": [{"text", "kind", "items", "sources"}], "options": [{"title", "payload"}]}."""
    msgs = [{"text": b.text, "kind": b.kind, "items": b.items, "sources": b.sources}
            for b in answer.blocks if b.text or b.items]
    return {"messages": msgs, "options": [{"title": o.title, "payload": o.payload} for o in answer.options]}


# ---------------------------------------------------------------- IVR (speech)

DIGITS = "零一二三四五六七八九"
_URL = re.compile(r"(https?://|www\.)\S+", re.I)
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\u2B50\u2B55\u231A-\u231B"
                    "\u23E9-\u23FA\uFE0F\u200D]")
# Hotlines: 95511, 96xxx, 10xxx/12xxx service numbers, 400/800 numbers, mobiles, landlines.
_PHONE = re.compile(r"(?<![\d.])(?:[48]00[-\s]?\d{3}[-\s]?\d{4}|1[3-9]\d{9}|0\d{2,3}-\d{7,8}|9[56]\d{3,4}(?:-\d{1,2}(?![\d:]))?"
                    r")(?![\d.])")
# Any other number right after 电话/热线/拨打 (10xxx, 12xxx service numbers ...) is a phone number too.
_CONTEXT_PHONE = re.compile(r"(电话|热线|拨打|致电|号码)([:：为是]?\s*)(\d{5,12})(?![\d.])")


def speak_digits(number: str) -> str:
    """400-820-8820 -> 四零零，八二零，八八二零 (groups become a short pause); 95511-7 -> 九五五一一转七."""
    ext = re.fullmatch(r"(9[56]\d{3,4})-(\d{1,2})", number)
    if ext:
        return speak_digits(ext.group(1)) + "转" + speak_digits(ext.group(2))
    groups = [g for g in re.split(r"[-\s]+", number) if g]
    return "，".join("".join(DIGITS[int(c)] for c in g if c.isdigit()) for g in groups)


def speakable(text: str) -> str:
    """No links, emoji, markdown or tables; phone numbers read digit by digit; short sentences."""
    t = _URL.sub("", text or "")
    t = _EMOJI.sub("", t)
    lines = []
    for line in t.splitlines():
        s = line.strip()
        if not s or re.fullmatch(r"[|\-:\s+=*_]+", s):
            continue  # blank lines, table rules, horizontal rules
        if s.count("|") >= 2:  # a table row: read its cells as a list
            s = "，".join(c.strip() for c in s.strip("|").split("|") if c.strip())
        s = re.sub(r"^#{1,6}\s*", "", s)
        s = re.sub(r"^(?:[-*+·•]\s+|[(（]?\d{1,2}[)、）]\s*|\d{1,2}\.(?!\d)\s*)", "", s)
        s = re.sub(r"(\d)\s*[*×xX]\s*(\d)", r"\1乘\2", s)   # 7*24 小时 -> 7乘24 小时, not 724
        s = re.sub(r"[*_`~#>]+", "", s)
        s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
        lines.append(s if re.search(r"[。！？.!?；;：:]$", s) else s + "。")
    t = "".join(lines)
    t = _PHONE.sub(lambda m: speak_digits(m.group(0)), t)
    t = _CONTEXT_PHONE.sub(lambda m: m.group(1) + m.group(2) + speak_digits(m.group(3)), t)
    t = re.sub(r"[；;]", "。", t)
    t = t.replace(",", "，").replace("→", "，")
    t = re.sub(r"/(?=[年月日天次人周])", "每", t)   # 1 次/年 -> 1 次每年
    t = t.replace("/", "、")
    t = re.sub(r"\s*[(（]\s*", "，", t)   # a bracket is a pause when spoken: 95511-7（7*24 小时）
    t = re.sub(r"[【】「」《》“”\"'()（）\[\]{}<>]", "", t)
    t = re.sub(r"[!！]", "。", t)
    t = re.sub(r"。+", "。", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s+([，。？、：])", r"\1", t)
    t = re.sub(r"[，、：]*。[，。、]*", "。", t)
    t = re.sub(r"^[，。、\s]+", "", t)
    return _shorten(t)


def _shorten(t: str, max_len: int = 50) -> str:
    """Sentences longer than max_len characters are cut at commas into shorter ones."""
    out = []
    for sent in (s for s in re.split(r"(?<=[。？?])", t) if s):
        while len(sent) > max_len:
            cut = max(sent.rfind("，", 0, max_len), sent.rfind(",", 0, max_len))
            if cut <= 5:
                break
            out.append(sent[:cut] + "。")
            sent = sent[cut + 1:]
        out.append(sent)
    return "".join(out)


@dataclass
class IvrSpeech:
    speak: str
    options: list[dict]             # [{"digit", "label", "payload"}]
    sms_text: str | None = None     # the full list, when the speech summarised it


def ivr(answer: Answer, sms_digit: str = "8") -> IvrSpeech:
    parts, sms = [], None
    for b in answer.blocks:
        if b.text:
            parts.append(speakable(b.text))
        if b.items:
            unit = b.unit or "项"
            if len(b.items) > IVR_MAX_ITEMS:
                examples = "、".join(speakable(x).rstrip("。") for x in b.items[:IVR_MAX_ITEMS])
                parts.append(f"共 {len(b.items)} {unit}，例如{examples}等。")
                sms = "\n".join(f"{i + 1}. {x}" for i, x in enumerate(b.items))
                if b.text:
                    sms = b.text + "\n" + sms
            else:
                parts.append("、".join(speakable(x).rstrip("。") for x in b.items) + "。")
    # the IVR always offers an agent on 0, so a "转人工" option is not read out again
    kept = [o for o in answer.options if not (o.payload or "").startswith("/human_handoff")]
    options = [{"digit": str(i + 1), "label": speakable(o.title).rstrip("。"), "payload": o.payload}
               for i, o in enumerate(kept[:IVR_MAX_OPTIONS])]
    if options:
        parts.append("".join(f"{o['label']}请按{DIGITS[int(o['digit'])]}。" for o in options))
    if sms:
        parts.append(f"需要完整名单的话，请按{DIGITS[int(sms_digit)]}，我们用短信发给您。")
        options.append({"digit": sms_digit, "label": "短信发送完整名单", "payload": ""})
    return IvrSpeech(speak="".join(p for p in parts if p), options=options, sms_text=sms)
