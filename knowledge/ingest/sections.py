"""Sections of a manual: heading outlines, section ranges, passages (stored once when a section
repeats), untitled text and question/answer items."""
from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Callable, Iterable, Iterator, Optional, Sequence

from knowledge import models as m
from knowledge.ingest.builder import Builder
from knowledge.ingest.text import ManualText, clean, nfkc, squash


def add_passages(b: Builder, headings: Iterable[tuple[int, str]],
                 service_for: Optional[Callable[[int, str], Optional[m.Service]]] = None,
                 end: int | None = None, prefix: str = "") -> int:
    """One passage per heading, running to the line before the next heading.

    headings: (line, title) pairs in any order; blank-only spans are skipped.
    service_for(line, title) may tie a passage to a service. Returns passages added.
    """
    hs = sorted(set(headings))
    last = end if end is not None else len(b.text)
    added = 0
    for i, (line, title) in enumerate(hs):
        stop = b.text.trim(line, hs[i + 1][0] - 1 if i + 1 < len(hs) else last)
        if stop < line or not b.text.span(line, stop).strip():
            continue
        svc = service_for(line, title) if service_for else None
        b.passage(f"{prefix}{title}", (line, stop), service=svc)
        added += 1
    return added


def section_ranges(t: ManualText, heads: Iterable[tuple[int, str]], end: int) -> list[tuple[int, int, str]]:
    """(line, last non-blank line, title) of each heading's section: up to the next heading or `end`."""
    out = []
    hs = sorted(heads)
    for i, (line, title) in enumerate(hs):
        stop = hs[i + 1][0] - 1 if i + 1 < len(hs) else end
        out.append((line, t.trim(line, stop), title))
    return out


def section_text(t: ManualText, heads: Iterable[tuple[int, str]], end: int,
                 words: tuple[str, ...]) -> tuple[str, int, int] | None:
    """(text, heading line, last line) of the first section whose title holds one of `words` and that
    has text under its heading: its non-blank lines, clean()ed."""
    for start, stop, title in section_ranges(t, heads, end):
        if any(w in title for w in words) and stop > start:
            body = "\n".join(clean(x) for x in t.span(start + 1, stop).splitlines() if x.strip())
            return body, start, stop
    return None


# -- outline trees ---------------------------------------------------------------------------------

@dataclass
class Node:
    """A heading of an outline and the lines it covers (line..end)."""
    title: str
    line: int
    level: int
    end: int = 0
    number: str = ""
    children: list["Node"] = field(default_factory=list)
    parent: Optional["Node"] = None

    def path(self) -> str:
        names: list[str] = []
        n: Optional[Node] = self
        while n is not None:
            names.append(n.title)
            n = n.parent
        return " > ".join(reversed(names))


def close_nodes(nodes: list[Node], end: int) -> None:
    """Each node ends on the line before the next one; the last at `end`."""
    for i, nd in enumerate(nodes):
        nd.end = nodes[i + 1].line - 1 if i + 1 < len(nodes) else end


def walk(node: Node) -> Iterator[Node]:
    yield node
    for c in node.children:
        yield from walk(c)


def own_spans(roots: Iterable[Node]) -> list[tuple[Node, str, int, int]]:
    """(node, title path, start, end) for the own text of every node: from its heading to the line
    before its first child."""
    out = []
    for root in roots:
        for nd in walk(root):
            stop = nd.children[0].line - 1 if nd.children else nd.end
            out.append((nd, nd.path(), nd.line, stop))
    return out


def body_key(t: ManualText, a: int, b: int, title: str) -> str:
    """Identity of a section for repeat detection: its title without numbering, plus its text."""
    title = re.sub(r"^[\d.、\s]+", "", squash(title))
    body = "".join(squash(t.line(n)) for n in range(a + 1, b + 1))
    return hashlib.sha1(f"{title}|{body}".encode()).hexdigest()


def emit_passages(b: Builder, spans: Iterable[tuple[Node, str, int, int]],
                  service_of: Callable[[Node], Optional[m.Service]], norm: Callable[[str], str],
                  noise: Callable[[int, int], set[int]], chunk: int = 60) -> dict[str, Any]:
    """One passage per span of own_spans() (long ones cut into chunks), its text the lines `norm`
    leaves non-blank minus the `noise(a, z)` lines. A section whose title and text repeat an earlier
    one is stored once. Returns stats."""
    t = b.text
    seen: dict[str, tuple[int, int]] = {}
    repeats: list[tuple[tuple[int, int], tuple[int, int]]] = []
    passages = 0
    for nd, path, a, z in spans:
        while z > a and not norm(t.line(z)):
            z -= 1
        if z < a:
            continue
        own = [n for n in range(a, z + 1) if norm(t.line(n))]
        if len(own) <= 1 and nd.children:
            continue  # a bare heading; its text lives in its children
        key = body_key(t, a, z, nd.title)
        if key in seen:
            repeats.append(((a, z), seen[key]))
            b.warn(f"section {nd.title!r} at lines {a}-{z} repeats lines {seen[key][0]}-{seen[key][1]}; stored once")
            continue
        seen[key] = (a, z)
        svc = service_of(nd)
        skip = noise(a, z)
        keep = [n for n in own if n not in skip]
        for i in range(0, len(keep), chunk):
            piece = keep[i:i + chunk]
            title = path if i == 0 else f"{path}（续）"
            txt = "\n".join(norm(t.line(n)) for n in piece)
            b.passage(title, (piece[0], piece[-1]), service=svc, text=txt)
            passages += 1
    return {"passages": passages, "repeats": repeats}


def untitled_blocks(t: ManualText, roots: Iterable[Node], norm: Callable[[str], str]) -> list[tuple[int, int]]:
    """Runs of non-blank text that no node of the outlines covers."""
    covered: set[int] = set()
    for root in roots:
        for nd in walk(root):
            covered.update(range(nd.line, nd.end + 1))
    blocks: list[tuple[int, int]] = []
    start: Optional[int] = None
    last = 0
    for n in range(1, len(t) + 1):
        if n not in covered and norm(t.line(n)):
            start = start or n
            last = n
        elif start and n in covered:
            blocks.append((start, last))
            start = None
    if start:
        blocks.append((start, last))
    return blocks


# -- repeated text ---------------------------------------------------------------------------------

def compare_key(text: str, names: list[str]) -> str:
    """Text for repeat detection: names replaced by one mark, list numbers, spaces and punctuation dropped."""
    s = nfkc(text)
    for n in sorted(names, key=len, reverse=True):
        if n:
            s = s.replace(n, "§")
    s = re.sub(r"(?m)^[-\s]*[(（]?(\d{1,2}|[一二三四五六七八九十]{1,3})[)）.、]\s*", "", s)
    s = re.sub(r"[\s\-·•,，;；:：。.()（）]", "", s)
    return s


def near_copy(a: str, b: str) -> bool:
    """Two compare_key() texts are the same or differ by a few characters (97% alike, lengths within 5%)."""
    return a == b or (abs(len(a) - len(b)) < 0.05 * max(len(a), 1)
                      and difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() > 0.97)


def repeated_section(seen: dict[str, list[str]], scope: str, title: str, body: str, names: list[str]) -> bool:
    """Whether a section repeats one seen before (and note it in `seen` if not): anywhere verbatim
    (numbering, spacing and punctuation aside), or under the same title within `scope` with `names`
    counted as one and a few characters of difference (near_copy)."""
    plain = compare_key(body, [])
    if plain in seen.setdefault("*", []):
        return True
    seen["*"].append(plain)
    prev = seen.setdefault(f"{scope}|" + compare_key(title, names), [])
    norm = compare_key(body, names)
    if any(near_copy(p, norm) for p in prev):
        return True
    prev.append(norm)
    return False


def lines_repeat(body: list[str], stored: list[list[str]]) -> bool:
    """Every line of `body` has a near-identical line (80% alike) in one of the `stored` texts."""
    return bool(body) and any(all(max(difflib.SequenceMatcher(None, x, y).ratio() for y in old) >= 0.8
                                  for x in body) for old in stored)


# -- questions and answers -------------------------------------------------------------------------

Q_LINE = re.compile(r"^Q\d*\s*[:：]\s*(.+)$")
A_LINE = re.compile(r"^A\s*[:：]\s*(.+)$")
MARKERS = [("paren", re.compile(r"^-?\s*[(（]\d{1,2}[)）]\s*(.+)$")), ("num", re.compile(r"^\d{1,2}\s*[、.]\s*(.+)$"))]


def qa_items(t: ManualText, start: int, stop: int) -> list[tuple[int, int, str, str]]:
    """(line, last line, question, answer) items of a Q&A section. Questions are "Q…:" lines, or else
    the lines numbered in the first numbering style the section uses; everything else is answer text."""
    items: list[tuple[int, str, list[str]]] = []
    style = None
    for n, raw in t.iter(start, stop):
        s = nfkc(raw).strip()
        if not s:
            continue
        qm, am = Q_LINE.match(s), A_LINE.match(s)
        if qm:
            style = "Q"
            items.append((n, qm.group(1), []))
            continue
        if am and items:
            items[-1][2].append(am.group(1))
            continue
        if style != "Q":
            hit = next(((k, mm) for k, rx in MARKERS if (mm := rx.match(s))), None)
            if hit and (style is None or hit[0] == style):
                style = hit[0]
                items.append((n, hit[1].group(1), []))
                continue
        if items:
            items[-1][2].append(s)
    out = []
    for i, (n, q, ans) in enumerate(items):
        end = items[i + 1][0] - 1 if i + 1 < len(items) else stop
        while end > n and not t.line(end).strip():
            end -= 1
        out.append((n, end, q, "\n".join(ans)))
    return out


def add_faq_once(b: Builder, seen: set[str], q: str, a: str, lines: tuple[int, int], svc: Optional[m.Service],
                 names: list[str]) -> None:
    """Store a question and its answer (clean()ed, blank lines dropped) unless either is empty or the
    pair repeats one in `seen` (compare_key with `names` counted as one)."""
    q, a = clean(q), "\n".join(clean(x) for x in a.splitlines() if x.strip())
    if not q or not a:
        return
    key = compare_key(q + "|" + a, names)
    if key in seen:
        return
    seen.add(key)
    b.faq(q, a, lines, service=svc)


def qa_pairs(t: ManualText, start: int, stop: int, skip: AbstractSet[int],
             norm: Callable[[str], str]) -> list[tuple[str, str, tuple[int, int]]]:
    """(question, answer, lines) pairs of "Q:" / "A:" lines or "1、问题？" lines followed by the answer;
    text after a question and before its A: continues the question (a numbered question is answered
    by the lines after it). `skip`: noise lines."""
    pairs: list[tuple[str, str, tuple[int, int]]] = []
    cur: Optional[dict] = None
    for n in range(start, stop + 1):
        if n in skip:
            continue
        s = norm(t.line(n))
        if not s:
            continue
        mq = re.match(r"^Q\s*[:：]\s*(.*)$", s) or re.match(r"^\d{1,2}、(.+[？?])$", s)
        ma = re.match(r"^A\s*[:：]\s*(.*)$", s)
        if mq:
            if cur:
                pairs.append((cur["q"], cur["a"], (cur["a0"], cur["a1"])))
            cur = {"q": mq.group(1), "a": "", "a0": n, "a1": n, "in_a": bool(re.match(r"^\d", s))}
        elif cur and ma:
            cur["a"] += ma.group(1)
            cur["in_a"] = True
            cur["a1"] = n
        elif cur:
            cur["a" if cur["in_a"] else "q"] += s
            cur["a1"] = n
    if cur:
        pairs.append((cur["q"], cur["a"], (cur["a0"], cur["a1"])))
    return pairs


def add_faqs_shared_once(b: Builder, pairs: Sequence[tuple[str, str, tuple[int, int], Optional[m.Service]]]) -> None:
    """Store (question, answer, lines, service) pairs with an answer; a pair repeated word for word
    under several services is stored once, for no single service."""
    count: dict[tuple[str, str], int] = {}
    for q, a, _, _ in pairs:
        count[(squash(q), squash(a))] = count.get((squash(q), squash(a)), 0) + 1
    done = set()
    for q, a, ls, svc in pairs:
        k = (squash(q), squash(a))
        if not a:
            continue
        if count[k] > 1:
            if k in done:
                continue
            done.add(k)
            b.faq(q, a, ls, None)
        else:
            b.faq(q, a, ls, svc)
