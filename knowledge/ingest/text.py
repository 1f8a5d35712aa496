"""A manual's text with 1-based line numbers, plus small helpers adapters share."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

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
