"""Turn heading lines into passages (section text with its line range)."""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from knowledge import models as m
from knowledge.ingest.builder import Builder


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
