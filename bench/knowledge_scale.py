"""How the knowledge store and the rules engine cost as the store grows.

    PYTHONPATH=. .venv/bin/python -m bench.knowledge_scale [--scales 1,10,100] [--queries 2000]
                                                           [--out docs/performance.md]

For each scale k the store is built from the real manuals (knowledge.ingest.build), then
k-1 SYNTHETIC copies of its services, coverage lists and hospitals are bulk-inserted:

- each real service is cloned with a new key (`<key>~syn007`), same name, facts and
  entitlements (the clone's sources point at the original's manual lines);
- each real coverage list gets a clone of the same length and kind, named `<name>（合成007）`,
  linked to the cloned services the original is linked to;
- city entries of a cloned list are real prefecture-level places: a surface form drawn
  (seeded) from knowledge.geo.all_city_names() with its code;
- each real hospital gets a synthetic twin named like `杭州合成000123医院` in a random real
  prefecture, and cloned hospital lists name the twins where the original names the real one.

Passages and FAQs are NOT multiplied: the BM25 index tokenises every passage with pkuseg
(about 7 s for the 1x corpus), so a 100x corpus would take longer than the whole run.
search/faq therefore see the larger store only through the user dictionary (which holds
every hospital name). Each scale runs in a fresh child process so memory and caches of
one scale do not leak into the next; the report goes to stdout and into the block
`knowledge_scale` of docs/performance.md.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from bench import common

BLOCK = "knowledge_scale"
HEADING = "Knowledge and rules"
WARM_PARTS = ["_services", "_coverage", "_hospitals", "_hospital_keys"]
SYN = "~syn"  # marks synthetic service keys
TODAY = date(2025, 6, 1)  # fixed "today" for the rules workload
# Share of the workload per query type (rules = service_rule + decide on the same service).
MIX = {"coverage": 0.25, "hospitals": 0.10, "resolve_service": 0.15, "find_hospital": 0.15,
       "search": 0.10, "faq": 0.10, "rules": 0.15}
QUERY_ROWS = ["coverage", "hospitals", "resolve_service", "find_hospital", "search", "faq", "service_rule",
              "decide"]
# City texts that are not places / name several places. Checked at run time: only those
# geo.resolve_city really reports as unknown / ambiguous are used.
UNKNOWN_CITIES = ["火星", "abc", "", "   ", "123", "我想问一下", "北极光城", "Atlantis", "x" * 300, "😀😀"]
AMBIGUOUS_CITIES = ["SZ", "BJ", "GZ", "HZ", "NJ", "鼓楼", "白云", "普陀", "新区", "东区"]
UNKNOWN_TEXT = ["", "asdf", "火星第一医院", "？？？", "随便问问", "x" * 3000]
QUESTION_TEMPLATES = ["{}怎么申请", "{}需要准备什么材料", "{}有次数限制吗", "我能给家人用{}吗", "{}多久能安排"]


# =====================================================================================
# synthetic rows
# =====================================================================================
def _rows(conn, table) -> list[dict]:
    return [dict(r) for r in conn.execute(table.select().order_by(table.c.id)).mappings()]


def _max_id(conn, table) -> int:
    from sqlalchemy import func, select

    return conn.execute(select(func.max(table.c.id))).scalar() or 0


def add_synthetic(engine, copies: int, seed: int) -> dict[str, int]:
    """Insert `copies` synthetic copies of the store's services, lists and hospitals.
    Returns the number of rows inserted per table."""
    from knowledge import geo
    from knowledge import models as m

    if copies <= 0:
        return {}
    rng = random.Random(seed)
    forms = sorted(geo.all_city_names().items())
    cities: dict[str, geo.City] = {}
    for form, code in forms:
        if code not in cities:
            res = geo.resolve_city(form)
            if res.city is not None:
                cities[code] = res.city
    forms = [(f, c) for f, c in forms if c in cities]

    T = {name: getattr(m, name).__table__ for name in
         ("Service", "ServiceFact", "Entitlement", "CoverageList", "CoverageCity", "Hospital", "CoverageHospital",
          "ServiceCoverage")}
    inserted: Counter = Counter()
    with engine.begin() as conn:
        services = _rows(conn, T["Service"])
        facts = _rows(conn, T["ServiceFact"])
        ents = _rows(conn, T["Entitlement"])
        lists = _rows(conn, T["CoverageList"])
        city_rows = _rows(conn, T["CoverageCity"])
        hospitals = _rows(conn, T["Hospital"])
        list_hosp = _rows(conn, T["CoverageHospital"])
        links = _rows(conn, T["ServiceCoverage"])
        next_id = {k: _max_id(conn, t) + 1 for k, t in T.items()}

        def put(name: str, rows: list[dict]) -> None:
            for i in range(0, len(rows), 20_000):
                conn.execute(T[name].insert(), rows[i:i + 20_000])
            inserted[name] += len(rows)

        for n in range(1, copies + 1):
            tag = f"{n:03d}"
            sid: dict[int, int] = {}
            out = []
            for r in services:
                sid[r["id"]] = next_id["Service"]
                out.append({**r, "id": next_id["Service"], "key": (r["key"] + SYN + tag)[-128:]})
                next_id["Service"] += 1
            put("Service", out)
            put("ServiceFact", [{**{k: v for k, v in r.items() if k != "id"}, "service_id": sid[r["service_id"]]}
                                for r in facts])
            put("Entitlement", [{**{k: v for k, v in r.items() if k != "id"}, "service_id": sid[r["service_id"]]}
                                for r in ents])
            lid: dict[int, int] = {}
            out = []
            for r in lists:
                lid[r["id"]] = next_id["CoverageList"]
                out.append({**r, "id": next_id["CoverageList"], "name": f"{r['name']}（合成{tag}）"[:255]})
                next_id["CoverageList"] += 1
            put("CoverageList", out)
            out = []
            for r in city_rows:
                form, code = forms[rng.randrange(len(forms))]
                c = cities[code]
                out.append({"list_id": lid[r["list_id"]], "raw_name": form, "city_code": code, "city_name": c.name,
                            "province": c.province, "line": r["line"], "note": None,
                            "hospital_count": rng.randint(1, 40) if r["hospital_count"] is not None else None})
            put("CoverageCity", out)
            hid: dict[int, int] = {}
            out = []
            for r in hospitals:
                c = cities[forms[rng.randrange(len(forms))][1]]
                hid[r["id"]] = next_id["Hospital"]
                out.append({"id": next_id["Hospital"], "name": f"{c.short}合成{next_id['Hospital']:06d}医院",
                            "aliases": [], "province": c.province, "city_code": c.code, "city_name": c.name,
                            "grade": r["grade"]})
                next_id["Hospital"] += 1
            put("Hospital", out)
            put("CoverageHospital", [{"list_id": lid[r["list_id"]], "hospital_id": hid[r["hospital_id"]],
                                      "raw_name": "", "note": None, "line": r["line"]} for r in list_hosp])
            put("ServiceCoverage", [{"service_id": sid[r["service_id"]], "list_id": lid[r["list_id"]]}
                                    for r in links])
    return dict(inserted)


# =====================================================================================
# one scale (child process)
# =====================================================================================
TABLES = [("services", "kb_services"), ("service facts", "kb_service_facts"), ("entitlements", "kb_entitlements"),
          ("coverage lists", "kb_coverage_lists"), ("city entries", "kb_coverage_cities"),
          ("hospitals", "kb_hospitals"), ("list hospitals", "kb_coverage_hospitals"),
          ("passages", "kb_passages"), ("FAQs", "kb_faqs")]


def _counts(engine) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as c:
        return {label: c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for label, t in TABLES}


def _db_size(engine, path: Path) -> int:
    from sqlalchemy import text

    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        c.execute(text("SELECT 1"))
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _pick(rng: random.Random, items: list, default: Any = "") -> Any:
    return items[rng.randrange(len(items))] if items else default


def make_workload(kb, engine, n: int, seed: int) -> list[tuple[str, Any]]:
    """A fixed, seeded list of (query type, argument) drawn from the store's own names."""
    from sqlalchemy import select

    from knowledge import geo
    from knowledge import models as m
    from knowledge.dictionary import hospital_short_names, load_hospital_aliases
    from knowledge.vocab import CATEGORIES

    rng = random.Random(seed)
    services = sorted(kb._services.values(), key=lambda v: v.id)
    real = [v for v in services if SYN not in v.key]
    with engine.connect() as c:
        manual_cities = sorted({r for (r,) in c.execute(select(m.CoverageCity.raw_name).join(
            m.CoverageList, m.CoverageCity.list_id == m.CoverageList.id).where(~m.CoverageList.name.contains("（合成")))
            if r})
        faq_questions = [q for (q,) in c.execute(select(m.Faq.question).order_by(m.Faq.id))]
    forms = sorted(geo.all_city_names())
    unknown = [t for t in UNKNOWN_CITIES if geo.resolve_city(t).status == "unknown"]
    ambiguous = [t for t in AMBIGUOUS_CITIES if geo.resolve_city(t).status == "ambiguous"]

    def city() -> str:
        x = rng.random()
        if x < 0.15:
            return _pick(rng, unknown)
        if x < 0.30:
            return _pick(rng, ambiguous)
        return _pick(rng, manual_cities) if x < 0.65 else _pick(rng, forms)

    hospitals = sorted(kb._hospitals.values(), key=lambda h: h.id)
    real_h = [h for h in hospitals if "合成" not in h.name]
    syn_h = [h for h in hospitals if "合成" in h.name]
    yaml_aliases = sorted(load_hospital_aliases())

    def hospital_text() -> str:
        x = rng.random()
        h = _pick(rng, real_h, None)
        if h is None or x < 0.10:
            return _pick(rng, UNKNOWN_TEXT)
        if x < 0.30:
            return h.name
        if x < 0.45:
            return _pick(rng, [*h.aliases, *hospital_short_names(h.name)], h.name)
        if x < 0.60:
            return _pick(rng, yaml_aliases, h.name)
        if x < 0.80:  # a sentence naming it: no exact key, so every key is tried
            return f"我想去{_pick(rng, hospital_short_names(h.name), h.name)}看病"
        return _pick(rng, syn_h, h).name

    cat_words = [w for label in CATEGORIES.values() for w in label.replace("（", "/").replace("）", "/").split("/")
                 if len(w) >= 2]

    def service_text() -> str:
        x = rng.random()
        v = _pick(rng, real, None)
        if v is None or x < 0.10:
            return _pick(rng, UNKNOWN_TEXT)
        if x < 0.35:
            return v.name
        if x < 0.55:
            return _pick(rng, list(v.aliases), v.name)
        if x < 0.70:
            return _pick(rng, cat_words, v.name)
        return f"我想用{_pick(rng, list(v.aliases), v.name)}"

    def question() -> str:
        x = rng.random()
        if x < 0.05:
            return _pick(rng, UNKNOWN_TEXT)
        if x < 0.50 and faq_questions:
            return _pick(rng, faq_questions)
        v = _pick(rng, real, None)
        return _pick(rng, QUESTION_TEMPLATES).format(_pick(rng, list(v.aliases), v.name) if v else "服务")

    def rules_case() -> dict:
        eff = TODAY - timedelta(days=rng.randint(0, 900))
        return {"service_id": _pick(rng, services).id,
                "policy": {"effective_date": eff, "waiting_days": rng.choice([None, 30, 60, 90])},
                "person": {"relation": rng.choice(["self", "self", "spouse", "child", "parent"]),
                           "birth_date": TODAY - timedelta(days=rng.randint(365, 80 * 365))},
                "case": {"city": city(), "diagnosis": rng.choice([None, "none", "suspected", "confirmed"])}}

    makers: dict[str, Callable[[], Any]] = {
        "coverage": lambda: (_pick(rng, services).id, city()),
        "hospitals": lambda: (_pick(rng, services).id, city()),
        "resolve_service": service_text,
        "find_hospital": hospital_text,
        "search": question,
        "faq": question,
        "rules": rules_case,
    }
    counts = {k: max(1, round(n * w)) for k, w in MIX.items()}
    kinds = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)
    return [(k, makers[k]()) for k in kinds]


def run_workload(kb, engine, work: list[tuple[str, Any]]) -> tuple[dict[str, list[float]], dict[str, Counter],
                                                                   list[tuple[int, float]]]:
    """Time every query. Returns latencies per row type, outcome counters, and
    (list entries scanned, seconds) for each coverage query."""
    from rules.engine import decide
    from rules.loader import service_rule
    from rules.model import CaseFacts, CoverageResult, PersonFacts, PolicyFacts, Source

    lat: dict[str, list[float]] = defaultdict(list)
    outcome: dict[str, Counter] = defaultdict(Counter)
    per_list: list[tuple[int, float]] = []
    cov = kb._coverage
    entries = {sid: sum(len(cov["cities"].get(lid, ())) + len(cov["hosp"].get(lid, ())) for lid in lids)
               for sid, lids in cov["svc_lists"].items()}
    clock = time.perf_counter
    for kind, arg in work:
        if kind == "coverage":
            t = clock()
            ans = kb.coverage(*arg)
            dt = clock() - t
            lat[kind].append(dt)
            outcome["coverage"][ans.status] += 1
            outcome["city text"][ans.resolution.status] += 1
            per_list.append((entries.get(arg[0], 0), dt))
        elif kind == "hospitals":
            t = clock()
            hs = kb.hospitals(*arg)
            lat[kind].append(clock() - t)
            outcome[kind]["some" if hs else "none"] += 1
        elif kind == "resolve_service":
            t = clock()
            hits = kb.resolve_service(arg)
            lat[kind].append(clock() - t)
            outcome[kind]["found" if hits else "none"] += 1
        elif kind == "find_hospital":
            t = clock()
            hits = kb.find_hospital(arg)
            lat[kind].append(clock() - t)
            outcome[kind]["found" if hits else "none"] += 1
        elif kind in ("search", "faq"):
            fn = kb.search if kind == "search" else kb.faq
            t = clock()
            hits = fn(arg)
            lat[kind].append(clock() - t)
            outcome[kind]["found" if hits else "none"] += 1
        elif kind == "rules":
            ans = kb.coverage(arg["service_id"], arg["case"]["city"])  # timed above as "coverage"
            ev = ans.evidence[0] if ans.evidence else None
            src = Source(ev.manual_id, ev.line_start, ev.line_end, ev.quote, ev.manual_title) if ev else None
            covres = CoverageResult(ans.status, src, ans.city.name, ans.reason) if ans.city else None
            t = clock()
            rule = service_rule(kb, arg["service_id"])
            lat["service_rule"].append(clock() - t)
            policy, person = PolicyFacts(**arg["policy"]), PersonFacts(**arg["person"])
            case = CaseFacts(**arg["case"])
            t = clock()
            d = decide(rule, policy, person, case, TODAY, covres)
            lat["decide"].append(clock() - t)
            outcome["decide"][d.status] += 1
    return dict(lat), {k: dict(v) for k, v in outcome.items()}, per_list


def run_scale(scale: int, queries: int, seed: int, db: Path, manuals: set[str] | None = None) -> dict:
    """Build the store at `scale`, warm a KnowledgeBase, run the workload. Plain-data result."""
    from core.db import make_engine
    from knowledge import geo
    from knowledge.dictionary import place_names
    from knowledge.ingest import build
    from knowledge.query import KnowledgeBase
    from knowledge.search import Tokenizer

    if db.exists():
        db.unlink()
    engine = make_engine(f"sqlite:///{db}")
    r: dict[str, Any] = {"scale": scale}
    t = time.perf_counter()
    build(engine, only=manuals)
    r["build_real_s"] = time.perf_counter() - t
    t = time.perf_counter()
    r["inserted"] = add_synthetic(engine, scale - 1, seed)
    r["build_synthetic_s"] = time.perf_counter() - t
    r["db_bytes"] = _db_size(engine, db)
    r["rows"] = _counts(engine)
    engine.dispose()

    # Process-wide costs paid once whatever the store: place-name tables, pkuseg model.
    t = time.perf_counter()
    geo.resolve_city("北京")
    place_names()
    Tokenizer._model()
    r["process_warm_s"] = time.perf_counter() - t
    r["rss_before_kb"] = common.rss_bytes()["rss"]

    engine = make_engine(f"sqlite:///{db}")
    kb = KnowledgeBase(engine)
    r["warm_parts_s"] = {}
    for part in WARM_PARTS:  # each a cached_property of KnowledgeBase
        t = time.perf_counter()
        getattr(kb, part)
        r["warm_parts_s"][part] = time.perf_counter() - t
    r["warm_core_s"] = sum(r["warm_parts_s"].values())
    t = time.perf_counter()
    kb._index  # noqa: B018 - user dictionary + BM25 index
    r["warm_index_s"] = time.perf_counter() - t
    r["rss_after_warm"] = common.rss_bytes()["rss"]
    r["hospital_keys"] = len(kb._hospital_keys)

    work = make_workload(kb, engine, queries, seed)
    pauses: list[float] = []
    started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:  # full (generation 2) collections during the workload
        if info.get("generation") == 2:
            if phase == "start":
                started.append(time.perf_counter())
            elif started:
                pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(on_gc)
    t, cpu = time.perf_counter(), time.process_time()
    try:
        lat, outcome, per_list = run_workload(kb, engine, work)
    finally:
        gc.callbacks.remove(on_gc)
    r["workload_s"] = time.perf_counter() - t
    r["workload_cpu_s"] = time.process_time() - cpu
    r["loadavg"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    r["gc_full"] = {"n": len(pauses), "total_s": sum(pauses), "max_s": max(pauses, default=0.0)}
    r["gc_objects"] = len(gc.get_objects())
    mem = common.rss_bytes()
    r["rss_after_work"], r["rss_peak"] = mem["rss"], mem["peak"]
    r["latency"] = {k: {"n": len(v), "p50": common.percentile(v, 50), "p95": common.percentile(v, 95),
                        "p99": common.percentile(v, 99), "max": max(v), "mean": sum(v) / len(v)}
                    for k, v in lat.items() if v}
    r["outcome"] = outcome
    r["coverage_by_entries"] = _by_entries(per_list)
    return r


def _by_entries(per_list: list[tuple[int, float]]) -> list[dict]:
    """Coverage latency grouped by how many list entries the service has."""
    buckets = [(0, 0, "no list"), (1, 100, "1–100"), (101, 1000, "101–1,000"), (1001, 10**9, "> 1,000")]
    out = []
    for lo, hi, label in buckets:
        v = [dt for e, dt in per_list if lo <= e <= hi]
        if v:
            out.append({"entries": label, "n": len(v), "p50": common.percentile(v, 50),
                        "p95": common.percentile(v, 95)})
    return out


# =====================================================================================
# report
# =====================================================================================
def render(results: list[dict], queries: int, seed: int, manuals: set[str] | None = None) -> str:
    f_ms, f_s, f_b, f_i = common.fmt_ms, common.fmt_s, common.fmt_bytes, common.fmt_int
    parts = [common.machine_line(),
             f"Workload: {queries:,} seeded queries (seed {seed}) per scale; figures in milliseconds unless noted. "
             "Rows beyond the real manuals (1×) are **synthetic** (cloned services, generated lists and hospitals); "
             "passages and FAQs are the real ones at every scale."]
    if manuals:
        parts[1] += f" Only the manuals starting with {', '.join(sorted(manuals))} were ingested."
    labels = [label for label, _ in TABLES]
    parts.append("**Store** (build = ingesting the real manuals, then bulk-inserting the synthetic rows)\n\n" +
                 common.md_table(["scale", "build real (s)", "build synthetic (s)", "SQLite size", *labels],
                                 [[f"{r['scale']}×", f_s(r["build_real_s"]), f_s(r["build_synthetic_s"]),
                                   f_b(r["db_bytes"]), *(f_i(r["rows"][k]) for k in labels)] for r in results]))
    parts.append("**Warm-up and memory** (KnowledgeBase caches = services with facts, coverage lists, hospitals "
                 "and their name keys; search index = user dictionary + BM25 over passages and FAQs; RSS of the "
                 "benchmark process, before the store is loaded includes the place-name index and the pkuseg "
                 "model)\n\n" +
                 common.md_table(["scale", "caches (s)", *[f"{p} (s)" for p in WARM_PARTS], "search index (s)",
                                  "hospital name keys", "RSS before store", "RSS after warm-up",
                                  "RSS after workload", "peak RSS"],
                                 [[f"{r['scale']}×", f_s(r["warm_core_s"]),
                                   *(f_s(r["warm_parts_s"][p]) for p in WARM_PARTS), f_s(r["warm_index_s"]),
                                   f_i(r["hospital_keys"]), f_b(r["rss_before_kb"]), f_b(r["rss_after_warm"]),
                                   f_b(r["rss_after_work"]), f_b(r["rss_peak"])] for r in results]))
    rows = []
    for q in QUERY_ROWS:
        for r in results:
            s = r["latency"].get(q)
            if s:
                rows.append([q if r is results[0] else "", f"{r['scale']}×", s["n"], f_ms(s["p50"]), f_ms(s["p95"]),
                             f_ms(s["p99"]), f_ms(s["max"])])
    parts.append("**Latency per query type** (ms; `service_rule` assembles one ServiceRule through the "
                 "KnowledgeBase read API, `decide` is the pure engine)\n\n" +
                 common.md_table(["query", "scale", "n", "p50", "p95", "p99", "max"], rows, align="llrrrrr"))
    big = results[-1]
    if big.get("coverage_by_entries"):
        parts.append(f"**coverage at {big['scale']}× by the size of the service's lists** (entries scanned)\n\n" +
                     common.md_table(["list entries", "n", "p50", "p95"],
                                     [[b["entries"], b["n"], f_ms(b["p50"]), f_ms(b["p95"])]
                                      for b in big["coverage_by_entries"]]))
    mix = []
    for r in results:
        o = r["outcome"]
        fmt = lambda c: ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "–"  # noqa: E731
        g = r["gc_full"]
        gc_text = (f"{g['n']}, {f_ms(g['total_s'])} ms in all, longest {f_ms(g['max_s'])} ms" if g["n"]
                   else "none") + f" ({f_i(r['gc_objects'])} objects tracked)"
        load = f"{r['loadavg']:.1f}" if r.get("loadavg") is not None else "–"
        mix.append([f"{r['scale']}×", fmt(o.get("city text", {})), fmt(o.get("coverage", {})),
                    fmt(o.get("find_hospital", {})), fmt(o.get("decide", {})),
                    f"{f_s(r['workload_s'])} / {f_s(r['workload_cpu_s'])}", load, gc_text])
    parts.append("**Workload outcomes** (city texts include unknown and ambiguous ones on purpose; workload = "
                 "wall / CPU seconds of this process, load = 1-minute load average after the workload, "
                 "full GC = Python generation-2 collections during the workload)\n\n" +
                 common.md_table(["scale", "city text resolution", "coverage answers", "find_hospital",
                                  "decide", "workload wall / CPU (s)", "load", "full GC"], mix,
                                 align="lllllrrl"))
    return "\n\n".join(parts) + "\n"


def _child_cmd(scale: int, args, db: Path, out: Path) -> list[str]:
    cmd = [sys.executable, "-m", "bench.knowledge_scale", "--child", str(scale), "--queries", str(args.queries),
           "--seed", str(args.seed), "--db", str(db), "--result", str(out)]
    if args.manuals:
        cmd += ["--manuals", args.manuals]
    return cmd


def parse_scales(text: str) -> list[int]:
    try:
        scales = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"scales must be comma-separated integers, not {text!r}") from None
    if not scales or any(s < 1 or s > 1000 for s in scales):
        raise argparse.ArgumentTypeError("each scale must be between 1 and 1000")
    return scales


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.knowledge_scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", type=parse_scales, default=[1, 10, 100], help="comma-separated, e.g. 1,10,100")
    ap.add_argument("--queries", type=int, default=2000, help="workload size per scale")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=common.PERFORMANCE_MD, help="Markdown file to update")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--manuals", default="", help="comma-separated manual file prefixes (default: all five)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the SQLite stores go (default: a temp dir)")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.queries < 1:
        ap.error("--queries must be at least 1")
    manuals = {p.strip() for p in args.manuals.split(",") if p.strip()} or None

    if args.child is not None:  # one scale, in this process
        res = run_scale(args.child, args.queries, args.seed, args.db, manuals)
        args.result.write_text(json.dumps(res, ensure_ascii=False, default=str), encoding="utf-8")
        return 0

    results = []
    with tempfile.TemporaryDirectory(prefix="kbscale-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(common.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        for scale in args.scales:
            db, out = work / f"kb_{scale}x.db", work / f"result_{scale}x.json"
            t = time.perf_counter()
            proc = subprocess.run(_child_cmd(scale, args, db, out), cwd=common.ROOT, env=env,
                                  capture_output=True, text=True)
            if proc.returncode != 0 or not out.exists():
                sys.stderr.write(proc.stderr[-4000:])
                print(f"scale {scale}×: child process failed (exit {proc.returncode})", file=sys.stderr)
                return 1
            results.append(json.loads(out.read_text(encoding="utf-8")))
            print(f"scale {scale}×: done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            if not args.workdir:
                for p in work.glob(f"kb_{scale}x.db*"):
                    p.unlink()
    report = render(results, args.queries, args.seed, manuals)
    print(report)
    if not args.no_write:
        common.update_block(args.out, BLOCK, report, HEADING,
                            intro="Regenerate with `PYTHONPATH=. .venv/bin/python -m bench.knowledge_scale`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
