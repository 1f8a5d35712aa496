"""A manual cut into clauses: sentences (or table rows, headings, list items) with their line ranges.

PDF extraction breaks sentences across lines (with blank lines in between) and flattens tables into
lines. A clause ends at a sentence end (。；！？), before a heading or list marker, and at a line that
stops well short of the manual's usual full line width without punctuation (the end of a paragraph or
of a table row). Every clause keeps the 1-based lines it came from, so an answer quoting it cites
exactly those lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.ingest.text import clean

_END = re.compile(r"(?<=[。；！？!?;])")
_ENDS = "。；！？!?;"
_NEW_ITEM = re.compile(
    r"^(\d{1,2}[)）、.．](?!\d)|[（(]\d{1,2}[)）]|[①-⑳]|[一二三四五六七八九十]{1,3}[、.．]|第[一二三四五六七八九十\d]+[章节条步]|"
    r"Q\s*[:：]|A\s*[:：]|问[:：]|答[:：]|注\s*\d*[:：、]|[•●■◆▶➢]|\d+\.\d+\s|步骤|Step)")
_HEADING = re.compile(r"^(\d+(\.\d+)*[.、．\s]?\s*|[一二三四五六七八九十]+、|附件\s*\d*|附表\s*\d*)[^。；，,]{1,24}$")
MAX_CLAUSE_CHARS = 400


@dataclass(frozen=True)
class Clause:
    manual_id: str
    line_start: int
    line_end: int
    text: str


def _full_width(lines: list[str]) -> int:
    """The manual's usual full line length (90th percentile of non-blank lines)."""
    lens = sorted(len(clean(x)) for x in lines if clean(x))
    if not lens:
        return 40
    return lens[min(len(lens) - 1, int(len(lens) * 0.9))]


def segment(manual_id: str, lines: list[str]) -> list[Clause]:
    """Clauses of a manual's raw lines (lines[0] is line 1)."""
    full = _full_width(lines)
    out: list[Clause] = []
    buf: list[str] = []
    start = end = 0

    def flush() -> None:
        nonlocal buf, start
        text = _join(buf)
        if text:
            out.append(Clause(manual_id, start, end, text[:MAX_CLAUSE_CHARS]))
        buf, start = [], 0

    texts = [clean(x) for x in lines]
    for n, raw in enumerate(lines, 1):
        t = texts[n - 1]
        if not t:
            continue
        if buf and (_NEW_ITEM.match(t) or _HEADING.match(t)):
            flush()
        pieces = [p for p in _END.split(t) if p]
        for i, piece in enumerate(pieces):
            if not buf:
                start = n
            buf.append(piece)
            end = n
            if piece[-1] in _ENDS or sum(len(b) for b in buf) > MAX_CLAUSE_CHARS:
                flush()
        if buf and (_HEADING.match(t) or len(t) < 0.8 * full) and not _tail_follows(texts, n):
            flush()  # a short line without an ending: the end of a paragraph, heading or table row
    flush()
    return out


def _tail_follows(texts: list[str], n: int) -> bool:
    """The next non-blank line after line n is the end of line n's sentence cut off by a page break
    (日间手 / 术除外；): a few characters closing the sentence, no new item or heading."""
    t = texts[n - 1]
    if not t or t[-1] in _ENDS + "：:，,、" or not re.match(r"[\u4e00-\u9fff]", t[-1]):
        return False
    nxt = next((x for x in texts[n:n + 3] if x), "")
    return bool(nxt) and len(nxt) <= 8 and nxt[-1] in _ENDS and re.match(r"[\u4e00-\u9fff]", nxt[0]) is not None \
        and not _NEW_ITEM.match(nxt) and not _HEADING.match(nxt)


def _join(parts: list[str]) -> str:
    """Pieces of PDF lines -> one text: no space between CJK characters, one space elsewhere."""
    text = ""
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if text and re.match(r"[A-Za-z0-9]", p[0]) and re.match(r"[A-Za-z0-9]", text[-1]):
            text += " "
        text += p
    return text
