"""The assembled rule of a service, with the manual lines each part was read from.

    PYTHONPATH=. .venv/bin/python -m rules 住院垫付 --insurer 平安健康
    PYTHONPATH=. .venv/bin/python -m rules 专家手术 --insurer 太保寿险 --edition "太保蓝本（2020版）"

It lives here rather than under `python -m knowledge` because rules sit above the store (knowledge may
not import rules).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

from knowledge.matching import norm
from knowledge.query import KnowledgeBase
from knowledge.views import Source
from rules.loader import service_rule


def _cite(s: Source) -> str:
    lines = f"{s.line_start}" if s.line_start == s.line_end else f"{s.line_start}-{s.line_end}"
    quote = f" “{s.quote[:60]}”" if s.quote else ""
    return f"[{s.manual_id[:3]}:{lines}]{quote}"


def _lines(obj, indent: str = "  ") -> list[str]:
    """The set fields of a rule part (empty values left out), its sources as citations."""
    out = []
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if v in (None, "", (), False):
            continue
        if isinstance(v, Source):
            out.append(f"{indent}{f.name}: {_cite(v)}")
        elif dataclasses.is_dataclass(v):
            inner = _lines(v, indent + "  ")
            if inner:
                out += [f"{indent}{f.name}:"] + inner
        elif isinstance(v, tuple) and v and dataclasses.is_dataclass(v[0]):
            out.append(f"{indent}{f.name}:")
            for item in v:
                out += [f"{indent}  -"] + _lines(item, indent + "    ")
        else:
            text = ", ".join(map(str, v[:12])) + (" …" if len(v) > 12 else "") if isinstance(v, tuple) else v
            out.append(f"{indent}{f.name}: {text}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("service", help="the service's name as the manual writes it (or a part of it)")
    ap.add_argument("--insurer", default="", help="insurer or product name (平安健康, 太保蓝本 …)")
    ap.add_argument("--edition", default=None)
    ap.add_argument("--tier", default=None)
    args = ap.parse_args(argv)
    kb = KnowledgeBase()
    ins = kb.resolve_insurer(args.insurer) if args.insurer else None
    if args.insurer and ins is None:
        print(f"unknown insurer: {args.insurer}", file=sys.stderr)
        return 2
    want = norm(args.service)
    found = [v for v in kb.services() if (ins is None or v.manual_id in ins.manuals)
             and (want == norm(v.name) or want in {norm(a) for a in v.aliases})]
    found = found or [v for v in kb.services() if (ins is None or v.manual_id in ins.manuals) and want in norm(v.name)]
    if not found:
        print(f"no service named {args.service!r}" + (f" at {ins.short_name}" if ins else ""), file=sys.stderr)
        return 1
    for v in found[:5]:
        rule = service_rule(kb, v.id, args.edition, args.tier)
        if rule is None:
            continue
        print(f"{rule.name} ({rule.insurer}; {rule.product or rule.manual_id}; service {v.id})")
        print("\n".join(_lines(rule)))
        print()
    if len(found) > 5:
        print(f"… and {len(found) - 5} more services match; name the insurer or the full service name")
    return 0


if __name__ == "__main__":
    sys.exit(main())
