"""Command line for the knowledge store.

    python -m knowledge build                 # rebuild the store from knowledge/manuals
    python -m knowledge stats [--markdown]    # counts per manual and table
    python -m knowledge search "陪诊怎么预约" [-k 5] [--insurer 平安]
    python -m knowledge coverage 重疾绿通 苏州 [--insurer 众安]
    python -m knowledge check                 # every list row answered as the row says

DATABASE_URL selects the store (default var/app.db).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any
from collections import Counter, defaultdict

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from core.db import engine_for
from knowledge import models as m

TABLES: list[tuple[str, Any]] = [  # (column title, model or None when counted below)
    ("services", m.Service), ("facts", m.ServiceFact), ("coverage lists", m.CoverageList),
    ("hospitals", None), ("diseases", None), ("drugs", m.Drug), ("faqs", m.Faq), ("contacts", m.Contact),
    ("passages", m.Passage), ("editions", m.Edition), ("entitlements", m.Entitlement),
]


class CliError(Exception):
    pass


def _engine():
    return engine_for()


def _require_store(engine) -> None:
    if not inspect(engine).has_table("kb_manuals"):
        raise CliError("the knowledge store is empty: run `python -m knowledge build` first")
    with Session(engine) as s:
        if not s.scalar(select(func.count(m.Manual.id))):
            raise CliError("the knowledge store has no manuals: run `python -m knowledge build` first")


def cmd_build(args) -> int:
    from knowledge.ingest import build

    t0 = time.perf_counter()
    report = build(_engine(), only=set(args.only) if args.only else None)
    dt = time.perf_counter() - t0
    print(f"built {len(report.manuals)} manuals in {dt:.1f} s")
    _print_stats(_engine(), markdown=False)
    if report.warnings:
        by_manual = Counter(w.split(":", 1)[0] for w in report.warnings)
        print(f"\n{len(report.warnings)} build warnings: " + ", ".join(f"{k} {v}" for k, v in sorted(by_manual.items())))
        for w in report.warnings[: args.warnings]:
            print(f"  - {w}")
        if len(report.warnings) > args.warnings:
            print(f"  … {len(report.warnings) - args.warnings} more (--warnings N to show more)")
    return 0


def stats(engine) -> tuple[list[str], dict[str, dict[str, object]]]:
    """Manual ids and {manual: {column: count}} (cities as 'resolved/total')."""
    out: dict[str, dict[str, object]] = defaultdict(dict)
    with Session(engine) as s:
        manuals = [mid for (mid,) in s.execute(select(m.Manual.id).order_by(m.Manual.id))]
        for title, model in TABLES:
            if model is None:
                continue
            for mid, n in s.execute(select(model.manual_id, func.count()).group_by(model.manual_id)):
                out[mid][title] = n
        for mid, n in s.execute(select(m.DiseaseList.manual_id, func.count(m.Disease.id))
                                .join(m.Disease, m.Disease.list_id == m.DiseaseList.id).group_by(m.DiseaseList.manual_id)):
            out[mid]["diseases"] = n
        city_rows = s.execute(select(m.CoverageList.manual_id, m.CoverageCity.city_code)
                              .join(m.CoverageCity, m.CoverageCity.list_id == m.CoverageList.id)).all()
        for mid in manuals:
            rows = [c for (x, c) in city_rows if x == mid]
            out[mid]["cities"] = f"{sum(1 for c in rows if c)}/{len(rows)}"
        hosp = s.execute(select(m.CoverageList.manual_id, func.count(func.distinct(m.CoverageHospital.hospital_id)))
                         .join(m.CoverageHospital, m.CoverageHospital.list_id == m.CoverageList.id)
                         .group_by(m.CoverageList.manual_id)).all()
        for mid, n in hosp:
            out[mid]["hospitals"] = n
        total_h = s.scalar(select(func.count(m.Hospital.id)))
        resolved_h = s.scalar(select(func.count(m.Hospital.id)).where(m.Hospital.city_code.is_not(None)))
    out["__hospitals__"] = {"total": total_h, "with_city": resolved_h}
    return manuals, out


def _print_stats(engine, markdown: bool) -> None:
    manuals, data = stats(engine)
    cols = ["services", "facts", "coverage lists", "cities", "hospitals", "diseases", "drugs", "faqs", "contacts",
            "passages", "editions", "entitlements"]
    rows = []
    totals: dict[str, int] = defaultdict(int)
    ctot = [0, 0]
    for mid in manuals:
        row = [mid]
        for c in cols:
            v = data[mid].get(c, 0)
            if c == "cities":
                a, b = (int(x) for x in str(v).split("/"))
                ctot[0] += a
                ctot[1] += b
            else:
                totals[c] += int(str(v))
            row.append(str(v))
        rows.append(row)
    h = data["__hospitals__"]
    total = ["total"] + [f"{ctot[0]}/{ctot[1]}" if c == "cities" else
                         (f"{h['total']} distinct" if c == "hospitals" else str(totals[c])) for c in cols]
    rows.append(total)
    head = ["manual"] + cols
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print(f"\ncities: resolved/total list entries; hospitals: distinct hospitals in the manual's lists "
              f"({h['with_city']} of {h['total']} hospitals in the store have a resolved city).")
    else:
        widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
        for r in [head] + rows:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))


def cmd_stats(args) -> int:
    engine = _engine()
    _require_store(engine)
    _print_stats(engine, markdown=args.markdown)
    return 0


def _query_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CliError("empty query")
    return text


def cmd_search(args) -> int:
    from knowledge.query import KnowledgeBase

    text = _query_text(args.text)
    engine = _engine()
    _require_store(engine)
    kb = KnowledgeBase(engine)
    if args.insurer and kb.resolve_insurer(args.insurer) is None:
        raise CliError(f"unknown or ambiguous insurer {args.insurer!r}; known: "
                       + ", ".join(i.short_name for i in kb.insurers()))
    hits = kb.search(text, insurer=args.insurer, k=max(1, min(args.k, 50)))
    if not hits:
        print("no matching passage")
        return 1
    for n, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())[:160]
        print(f"{n}. [{h.score:.2f}] {h.source.cite()}  ({h.source.manual_id})\n   {snippet}")
    return 0


def cmd_coverage(args) -> int:
    from knowledge.query import KnowledgeBase

    service_text, city_text = _query_text(args.service), _query_text(args.city)
    engine = _engine()
    _require_store(engine)
    kb = KnowledgeBase(engine)
    if args.insurer and kb.resolve_insurer(args.insurer) is None:
        raise CliError(f"unknown or ambiguous insurer {args.insurer!r}; known: "
                       + ", ".join(i.short_name for i in kb.insurers()))
    found = kb.resolve_service(service_text, insurer=args.insurer)
    if not found:
        raise CliError(f"no service matches {service_text!r}")
    top = found[0]
    if len(found) > 1:
        others = "; ".join(f"{s.name}（{s.insurer_short}）" for s in found[1:6])
        print(f"service: {top.name}（{top.insurer_short}, id {top.id}）; other matches: {others}")
    else:
        print(f"service: {top.name}（{top.insurer_short}, id {top.id}）")
    ans = kb.coverage(top.id, city_text)
    city = f"{ans.city.province} {ans.city.name} ({ans.city.code})" if ans.city else "-"
    print(f"status: {ans.status}\ncity: {city} [{ans.resolution.status}]\nreason: {ans.reason}")
    if ans.places:
        print("listed: " + "、".join(ans.places) + (f" ({ans.via})" if ans.via else ""))
    if ans.hospitals_count is not None:
        print(f"hospitals: {ans.hospitals_count}")
    for src in ans.evidence:
        print(f"evidence: {src.cite()} {src.quote[:120]}")
    return 0


def cmd_check(args) -> int:
    from knowledge.coverage import check_answers
    from knowledge.query import KnowledgeBase

    engine = _engine()
    _require_store(engine)
    res = check_answers(KnowledgeBase(engine))
    print("| manual | list rows | answered as the row says | bare name needs the row's province | wrong |")
    print("|---|---|---|---|---|")
    for mid, st in sorted(res.items()):
        print(f"| {mid} | {st['rows']} | {st['ok']} | {st['needs_province']} | {st['bad']} |")
    return 1 if any(st["bad"] for st in res.values()) else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m knowledge", description="Knowledge store tools")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="rebuild the store from the manuals (drops kb_ tables first)")
    b.add_argument("--only", nargs="*", help="manual file-name prefixes to ingest (default all)")
    b.add_argument("--warnings", type=int, default=20, help="how many warnings to list (default 20)")
    b.set_defaults(func=cmd_build)
    st = sub.add_parser("stats", help="counts per manual and table")
    st.add_argument("--markdown", action="store_true", help="print a Markdown table")
    st.set_defaults(func=cmd_stats)
    se = sub.add_parser("search", help="BM25 search over the manuals' passages")
    se.add_argument("text")
    se.add_argument("-k", type=int, default=5)
    se.add_argument("--insurer")
    se.set_defaults(func=cmd_search)
    co = sub.add_parser("coverage", help="is SERVICE available in CITY?")
    co.add_argument("service")
    co.add_argument("city")
    co.add_argument("--insurer")
    co.set_defaults(func=cmd_coverage)
    ch = sub.add_parser("check", help="answer-level check: every list row answered as the row says")
    ch.set_defaults(func=cmd_check)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # no tracebacks for users; the message says what failed
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
