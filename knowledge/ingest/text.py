"""A manual's text with 1-based line numbers, plus the text helpers adapters share: normalising,
lines joined with a map back to line numbers, the clause around a match, tab-separated rows."""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

_SPACE_RE = re.compile(r"[ \t\u3000\xa0]+")


def clean(s: str) -> str:
    """NFKC-normalise and fold runs of spaces; keeps CJK text as it is."""
    s = unicodedata.normalize("NFKC", s)
    return _SPACE_RE.sub(" ", s).strip()


def squash(s: str) -> str:
    """clean() and drop all spaces: for matching names split by PDF extraction."""
    return clean(s).replace(" ", "")


@dataclass
class ManualText:
    manual_id: str
    lines: list[str]  # raw lines; lines[0] is line 1

    @classmethod
    def load(cls, path: Path) -> "ManualText":
        raw = path.read_text(encoding="utf-8")
        return cls(manual_id=path.stem, lines=raw.splitlines())

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, n: int) -> str:
        """Line n (1-based)."""
        return self.lines[n - 1]

    def span(self, start: int, end: int) -> str:
        """Lines start..end inclusive (1-based), joined with newlines."""
        return "\n".join(self.lines[start - 1 : end])

    def iter(self, start: int = 1, end: int | None = None) -> Iterator[tuple[int, str]]:
        end = len(self.lines) if end is None else end
        for n in range(start, end + 1):
            yield n, self.lines[n - 1]

    def trim(self, start: int, end: int) -> int:
        """The last non-blank line of start..end (start when all are blank)."""
        while end > start and not self.lines[end - 1].strip():
            end -= 1
        return end

    def next_nonblank(self, n: int, end: int | None = None) -> int | None:
        """The first non-blank line after n (up to end), else None."""
        for k in range(n + 1, (end or len(self.lines)) + 1):
            if self.lines[k - 1].strip():
                return k
        return None

    def prev_nonblank(self, n: int) -> int | None:
        """The last non-blank line before n, else None."""
        for k in range(n - 1, 0, -1):
            if self.lines[k - 1].strip():
                return k
        return None

    def find(self, pattern: str | re.Pattern, start: int = 1, end: int | None = None) -> int | None:
        """First line number at or after start whose text matches pattern (re.search)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        for n, s in self.iter(start, end):
            if rx.search(s):
                return n
        return None

    def find_all(self, pattern: str | re.Pattern, start: int = 1, end: int | None = None) -> list[int]:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [n for n, s in self.iter(start, end) if rx.search(s)]


def nfkc(s: str) -> str:
    """NFKC-normalise only (spaces and tabs kept)."""
    return unicodedata.normalize("NFKC", s)


# -- PDF bullets and joined lines --------------------------------------------------------------

BULLETS = "\uf06c\uf0d8\uf0b7\u2022\u25cf"  # bullet glyphs PDF extraction leaves at line starts


def unbullet(s: str) -> str:
    """clean() a raw line and drop PDF bullet glyphs."""
    return clean(s.translate({ord(c): " " for c in BULLETS}))


@dataclass
class Flow:
    """Lines joined into one text, with a map from text positions back to line numbers."""
    text: str
    starts: list[int]
    lines: list[int]

    @classmethod
    def join(cls, pieces: Iterable[tuple[int, str]], default_line: int) -> "Flow":
        """pieces: (line, text) in order, each text already carrying its own separator."""
        parts: list[str] = []
        starts: list[int] = []
        lines: list[int] = []
        pos = 0
        for n, s in pieces:
            starts.append(pos)
            lines.append(n)
            parts.append(s)
            pos += len(s)
        return cls("".join(parts), starts or [0], lines or [default_line])

    def line_of(self, pos: int) -> int:
        i = bisect.bisect_right(self.starts, pos) - 1
        return self.lines[max(i, 0)]

    def lines_of(self, a: int, b: int) -> tuple[int, int]:
        return self.line_of(a), self.line_of(max(a, b - 1))

    def sentences(self, split: re.Pattern) -> list[tuple[str, tuple[int, int]]]:
        """Pieces of the text cut by `split` (stripped, 2+ characters) with the lines they span."""
        out: list[tuple[str, tuple[int, int]]] = []
        pos = 0
        for piece in split.split(self.text):
            if piece is None:
                continue
            a, b = pos, pos + len(piece)
            pos = b
            s = piece.strip()
            a += len(piece) - len(piece.lstrip())
            if len(s) >= 2:
                out.append((s, self.lines_of(a, b)))
        return out


def matched(rx: re.Pattern[str], s: str) -> re.Match[str]:
    """rx.match(s) for a line the caller found with rx (ManualText.find_all): it matches."""
    mt = rx.match(s)
    assert mt is not None, f"{rx.pattern!r} does not match {s!r}"
    return mt


def clause_at(line: str, pos: int) -> str:
    """The sentence of `line` around character `pos` (in a tab-separated row: of the cell holding it),
    without a leading list number (1. / (1) / 1、) but with a number the sentence starts with."""
    if "\t" in line:
        a = line.rfind("\t", 0, pos) + 1
        z = line.find("\t", pos)
        line, pos = line[a:z if z >= 0 else len(line)], pos - a
    s = line
    a = max(s.rfind(p, 0, pos) for p in "。；;")
    ends = [i for i in (s.find(p, pos) for p in "。；;") if i >= 0]
    z = min(ends) + 1 if ends else len(s)
    out = s[a + 1:z].strip()
    out = re.sub(r"^[-\s]*(?:[(（]\d{1,2}[)）]|\d{1,2}[)）.、](?!\d))\s*", "", out)
    return clean(out)


def same_text(a: str, b: str) -> bool:
    """Same sentence up to punctuation, spaces and bold marks."""
    def norm(x: str) -> str:
        return re.sub(r"[\W_]+", "", squash(x.replace("**", "")))
    return norm(a) == norm(b)


def subsequence(short: str, long: str) -> bool:
    """Every character of `short` occurs in `long`, in order (二诊 in 二次诊疗)."""
    it = iter(long)
    return bool(short) and all(ch in it for ch in short)


# -- tab-separated tables --------------------------------------------------------------------------

def is_table(line: str) -> bool:
    return "\t" in line


def header_cells(line: str) -> list[str]:
    return [squash(c) for c in line.split("\t")]


def tab_rows(t: ManualText, header_line: int, end: int) -> tuple[list[tuple[int, list[str]]], int]:
    """Rows after a header line, skipping page-break blank lines; stops at the first line with no tab.
    Returns (rows, last line used)."""
    rows, last = [], header_line
    for n, raw in t.iter(header_line + 1, end):
        if not raw.strip():
            continue
        if not is_table(raw):
            break
        rows.append((n, [c.strip() for c in raw.split("\t")]))
        last = n
    return rows, last


def n_up(cells: list[str], width: int) -> list[list[str]]:
    """Split a line of a two-up (or n-up) table into its logical rows."""
    groups = [cells[i:i + width] for i in range(0, len(cells), width)]
    return [g for g in groups if any(c.strip() for c in g)]


# a space between two CJK characters is a PDF line wrap, unless a "label：" follows
_WRAP_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])(?![\u4e00-\u9fff]{1,6}[：:])")


def tab_cells(line: str) -> list[str]:
    """Cells of a tab-separated line, wrap spaces inside a cell dropped, trailing empty cells cut."""
    cells = [_WRAP_SPACE.sub("", c.strip()) for c in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def tab_blocks(t: ManualText, start: int, end: int) -> list[list[tuple[int, list[str]]]]:
    """Runs of tab-separated lines in start..end as (line, tab_cells) rows; blank lines inside a run
    are page breaks, any other line ends it."""
    blocks: list[list[tuple[int, list[str]]]] = []
    cur: list[tuple[int, list[str]]] = []
    for n, s in t.iter(start, end):
        if "\t" in s:
            cur.append((n, tab_cells(s)))
        elif s.strip():
            if cur:
                blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks
