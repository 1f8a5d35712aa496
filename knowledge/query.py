"""The read API over the knowledge store. Everything it returns carries its Source.

The store is read-only after `python -m knowledge build`, so a KnowledgeBase loads
the tables it needs into memory on first use and answers from there. The BM25 index
(knowledge.search) is built lazily and cached per store.
"""
from __future__ import annotations

import re

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.config import MANUALS_DIR
from core.db import engine_for
from knowledge import coverage
from knowledge.clauses import segment
from knowledge import models as m
from knowledge.dictionary import hospital_name_key, hospital_short_names, load_hospital_aliases
from knowledge.ingest.text import clean
from knowledge.matching import Score, hospital_text_score, name_score, norm, service_score
from knowledge.views import (ClauseView, ContactView, CoverageAnswer, CoverageListView,  # noqa: F401
                             DiseaseListView, DiseaseView, DrugView, EditionView, EntitlementView, FactView,
                             FaqView, HospitalView, InsurerView, ManualView, NotFound, PassageHit, ServiceView,
                             Source)

QUOTE_CHARS = 200


@dataclass
class _Manual:
    id: str
    title: str
    filename: str
    insurer: str
    insurer_id: int
    line_count: int
    sections: list[tuple[int, int, str]] = field(default_factory=list)  # passage spans
    general: list[tuple[int, int]] = field(default_factory=list)  # spans of passages of no service


class KnowledgeBase:
    def __init__(self, engine: Engine | None = None, manuals_dir: Path = MANUALS_DIR):
        self.engine = engine or engine_for()
        self.manuals_dir = manuals_dir
        self._lines: dict[str, list[str] | None] = {}

    # -- loading -------------------------------------------------------------
    def _session(self) -> Session:
        return Session(self.engine)

    @cached_property
    def _manuals(self) -> dict[str, _Manual]:
        with self._session() as s:
            out = {}
            for man, ins in s.execute(select(m.Manual, m.Insurer).join(m.Insurer, m.Manual.insurer_id == m.Insurer.id)):
                out[man.id] = _Manual(man.id, man.title, man.filename, ins.name, ins.id, man.line_count)
            for mid, a, b, sec, sid in s.execute(select(m.Passage.manual_id, m.Passage.line_start, m.Passage.line_end,
                                                        m.Passage.section, m.Passage.service_id)):
                if mid in out:
                    out[mid].sections.append((a, b, sec))
                    if sid is None:
                        out[mid].general.append((a, b))
        return out

    def _manual_lines(self, manual_id: str) -> list[str] | None:
        if manual_id not in self._lines:
            man = self._manuals.get(manual_id)
            path = self.manuals_dir / man.filename if man else None
            try:
                self._lines[manual_id] = path.read_text(encoding="utf-8").splitlines() if path else None
            except OSError:
                self._lines[manual_id] = None
        return self._lines[manual_id]

    def _section_for(self, manual_id: str, a: int, b: int) -> str | None:
        man = self._manuals.get(manual_id)
        if not man:
            return None
        best = None
        for s, e, sec in man.sections:
            if s <= a <= e:
                if best is None or (e - s) < (best[1] - best[0]):
                    best = (s, e, sec)
        return best[2] if best else None

    def source(self, manual_id: str, line_start: int, line_end: int | None = None, section: str | None = None,
               quote: str | None = None) -> Source:
        """A Source for a line range of a manual (section looked up from the passages when not given)."""
        line_end = line_end if line_end is not None else line_start
        man = self._manuals.get(manual_id)
        if quote is None:
            lines = self._manual_lines(manual_id)
            if lines:
                quote = " ".join(clean(x) for x in lines[line_start - 1 : min(line_end, line_start + 40)] if clean(x))
            else:
                quote = ""
        quote = clean(quote)
        if len(quote) > QUOTE_CHARS:
            quote = quote[: QUOTE_CHARS - 1] + "…"
        return Source(manual_id=manual_id, manual_title=man.title if man else manual_id,
                      insurer=man.insurer if man else "",
                      section=section if section is not None else self._section_for(manual_id, line_start, line_end),
                      line_start=line_start, line_end=line_end, quote=quote)

    def _src(self, row: Any, section: str | None = None) -> Source:
        return self.source(row.manual_id, row.line_start, row.line_end, section=section)

    # -- manuals -------------------------------------------------------------
    def manual(self, manual_id: str) -> ManualView:
        man = self._manuals.get(manual_id)
        if man is None:
            raise NotFound(f"no manual with id {manual_id!r}")
        return ManualView(man.id, man.title, man.insurer, man.insurer_id, man.line_count)

    def manual_lines(self, manual_id: str) -> tuple[str, ...]:
        """The manual's raw lines (line n is item n - 1); empty when its file is missing."""
        return tuple(self._manual_lines(manual_id) or ())

    def excerpt(self, manual_id: str, line_start: int, line_end: int, text: str | None = None,
                limit: int = QUOTE_CHARS) -> str:
        """A plain quote for a citation: `text` cleaned, else the manual's lines cleaned and joined (blank
        lines skipped); cut at `limit` characters, no ellipsis. (source() makes the display quote.)"""
        if text:
            return clean(text)[:limit]
        lines = self._manual_lines(manual_id) or []
        return " ".join(clean(x) for x in lines[max(0, line_start - 1):line_end] if x.strip())[:limit]

    def general_passage_lines(self, manual_id: str) -> list[tuple[int, int]]:
        """Line spans of the manual's passages that belong to no service (general notes), in line order."""
        man = self._manuals.get(manual_id)
        return sorted(man.general, key=lambda x: x[0]) if man else []

    @cached_property
    def _insurers(self) -> list[InsurerView]:
        by_ins: dict[int, list[str]] = defaultdict(list)
        for man in self._manuals.values():
            by_ins[man.insurer_id].append(man.id)
        with self._session() as s:
            return [InsurerView(i.id, i.name, i.short_name, tuple(i.aliases or ()), tuple(sorted(by_ins[i.id])))
                    for i in s.scalars(select(m.Insurer).order_by(m.Insurer.id))]

    @cached_property
    def _products(self) -> dict[int, m.Product]:
        with self._session() as s:
            rows = s.scalars(select(m.Product)).all()
            s.expunge_all()
            return {p.id: p for p in rows}

    @cached_property
    def _services(self) -> dict[int, ServiceView]:
        ins = {i.id: i for i in self._insurers}
        with self._session() as s:
            facts: dict[int, list[FactView]] = defaultdict(list)
            for f in s.scalars(select(m.ServiceFact).order_by(m.ServiceFact.service_id, m.ServiceFact.line_start,
                                                              m.ServiceFact.id)):
                facts[f.service_id].append(FactView(f.attribute, f.value, f.data, self._src(f), f.id))
            out: dict[int, ServiceView] = {}
            for svc in s.scalars(select(m.Service).order_by(m.Service.id)):
                man = self._manuals[svc.manual_id]
                prod = self._products.get(svc.product_id) if svc.product_id else None
                i = ins[man.insurer_id]
                out[svc.id] = ServiceView(
                    id=svc.id, key=svc.key, manual_id=svc.manual_id, insurer=i.name, insurer_id=i.id,
                    insurer_short=i.short_name, product=prod.name if prod else None,
                    product_id=prod.id if prod else None, name=svc.name, aliases=tuple(svc.aliases or ()),
                    category=svc.category, description=svc.description or "", beneficiary=svc.beneficiary,
                    beneficiary_text=svc.beneficiary_text, family_rule=dict(svc.family_rule or {}),
                    waiting_kind=svc.waiting_kind, waiting_days=svc.waiting_days,
                    cooling_off_days=svc.cooling_off_days, waiting_waivers=tuple(svc.waiting_waivers or ()),
                    diagnosis_kind=svc.diagnosis_kind, diagnosis_list=svc.diagnosis_list,
                    diagnosis_hospital=svc.diagnosis_hospital,
                    diagnosis_exclusions=tuple(svc.diagnosis_exclusions or ()), age_min=svc.age_min,
                    age_max=svc.age_max, usage_limit=svc.usage_limit, usage_period=svc.usage_period,
                    usage_text=svc.usage_text, usage_rule=dict(svc.usage_rule or {}),
                    addon_required=svc.addon_required, lead_time_hours=svc.lead_time_hours,
                    response_time=svc.response_time, how_to_apply=svc.how_to_apply, documents=svc.documents,
                    fees=svc.fees, exclusions=svc.exclusions, coverage_scope=svc.coverage_scope or "unspecified",
                    line_start=svc.line_start, line_end=svc.line_end,
                    source=self.source(svc.manual_id, svc.line_start, svc.line_end,
                                       section=self._section_for(svc.manual_id, svc.line_start, svc.line_end)
                                       or svc.name),
                    facts=tuple(facts.get(svc.id, ())))
        return out

    @cached_property
    def _coverage(self) -> dict[str, Any]:
        """Coverage lists, their cities and hospitals, and which services use them."""
        with self._session() as s:
            lists = {cl.id: (cl.name, cl.kind, cl.manual_id, cl.line_start, cl.line_end)
                     for cl in s.scalars(select(m.CoverageList))}
            incomplete = {cl.id for cl in s.scalars(select(m.CoverageList)) if cl.complete is False}
            svc_lists: dict[int, list[int]] = defaultdict(list)
            for sid, lid in s.execute(select(m.ServiceCoverage.service_id, m.ServiceCoverage.list_id)):
                svc_lists[sid].append(lid)
            cities: dict[int, list[tuple]] = defaultdict(list)
            for c in s.scalars(select(m.CoverageCity).order_by(m.CoverageCity.line)):
                parts = _places_inside(c.note, c.city_code, c.province)
                for raw in parts or (c.raw_name,):  # 红河（个旧市、开远市）: only those two are listed
                    cities[c.list_id].append((c.city_code, raw, c.line, c.hospital_count, c.city_name))
            hosp: dict[int, list[tuple]] = defaultdict(list)
            first_line: dict[int, tuple[str, int]] = {}
            for ch in s.scalars(select(m.CoverageHospital).order_by(m.CoverageHospital.line)):
                hosp[ch.list_id].append((ch.hospital_id, ch.raw_name, ch.line))
                first_line.setdefault(ch.hospital_id, (lists[ch.list_id][2], ch.line))
        return {"lists": lists, "svc_lists": svc_lists, "cities": cities, "hosp": hosp, "first_line": first_line,
                "incomplete": incomplete}

    @cached_property
    def _hospitals(self) -> dict[int, m.Hospital]:
        with self._session() as s:
            rows = s.scalars(select(m.Hospital)).all()
            s.expunge_all()
            return {h.id: h for h in rows}

    @cached_property
    def _hospital_keys(self) -> dict[str, list[tuple[int, float]]]:
        """Matching key -> [(hospital id, weight)]: names, stored aliases, generated short names, YAML aliases."""
        keys: dict[str, dict[int, float]] = defaultdict(dict)

        def put(k: str, hid: int, w: float) -> None:
            k = norm(k)
            if k and keys[k].get(hid, 0) < w:
                keys[k][hid] = w

        by_key: dict[str, list[int]] = defaultdict(list)
        for h in self._hospitals.values():
            put(h.name, h.id, Score.H_NAME)
            by_key[hospital_name_key(h.name)].append(h.id)
            for a in h.aliases or []:
                put(a, h.id, Score.H_ALIAS)
            for i, a in enumerate(hospital_short_names(h.name)):
                put(a, h.id, Score.H_SHORT - min(i, 5))
        for alias, targets in load_hospital_aliases().items():
            for rank, t in enumerate(targets):
                for hid in by_key.get(hospital_name_key(t), []):
                    put(alias, hid, Score.H_ALIAS_FILE - rank)
        return {k: sorted(v.items(), key=lambda x: -x[1]) for k, v in keys.items()}

    def _hospital_view(self, h: m.Hospital, matched: str = "", score: float = 0.0) -> HospitalView:
        fl = self._coverage["first_line"].get(h.id)
        return HospitalView(h.id, h.name, tuple(h.aliases or ()), h.province, h.city_code, h.city_name, h.grade,
                            self.source(fl[0], fl[1]) if fl else None, matched, score, (h.id,))

    # -- insurers ------------------------------------------------------------
    def insurers(self) -> list[InsurerView]:
        return list(self._insurers)

    def resolve_insurer(self, text: str | int | None) -> InsurerView | None:
        """平安 / 众安 / 太保寿险 / an id -> the insurer; unknown or ambiguous (太保) -> None."""
        if isinstance(text, int):
            return next((i for i in self._insurers if i.id == text), None)
        q = norm(text)
        if not q:
            return None
        names = {i.id: {norm(x) for x in (i.name, i.short_name, *i.aliases) if x} for i in self._insurers}
        exact = [i for i in self._insurers if q in names[i.id]]
        if len(exact) == 1:
            return exact[0]
        # the longest name contained in the text wins ("我是平安健康的客户")
        best: dict[int, int] = {}
        for i in self._insurers:
            lens = [len(n) for n in names[i.id] if len(n) >= 2 and n in q]
            if lens:
                best[i.id] = max(lens)
        if best:
            top = max(best.values())
            ids = [k for k, v in best.items() if v == top]
            return next(i for i in self._insurers if i.id == ids[0]) if len(ids) == 1 else None
        # text is part of a name (太平洋人 -> ambiguous unless one insurer)
        part = [i for i in self._insurers if len(q) >= 2 and any(q in n for n in names[i.id])]
        return part[0] if len(part) == 1 else None

    def _insurer_id(self, insurer: str | int | None) -> int | None:
        """None -> no filter (returns None); unknown -> -1 (matches nothing)."""
        if insurer is None or insurer == "":
            return None
        i = self.resolve_insurer(insurer)
        return i.id if i else -1

    # -- services ------------------------------------------------------------
    def services(self, insurer: str | int | None = None, product: str | None = None) -> list[ServiceView]:
        iid = self._insurer_id(insurer)
        out = [v for v in self._services.values() if iid is None or v.insurer_id == iid]
        if product:
            q = norm(product)
            pids = {p.id for p in self._products.values()
                    if q == norm(p.name) or q in {norm(a) for a in p.aliases or []} or (len(q) >= 2 and q in norm(p.name))}
            mids = {mid for mid, man in self._manuals.items() if q in norm(man.title)}
            out = [v for v in out if v.product_id in pids or (v.product_id is None and v.manual_id in mids)]
        return out

    def service(self, service_id: int) -> ServiceView:
        try:
            return self._services[int(service_id)]
        except (KeyError, ValueError, TypeError):
            raise NotFound(f"no service with id {service_id!r}") from None

    @cached_property
    def _services_by_key(self) -> dict[tuple[str, str], ServiceView]:
        return {(v.manual_id, v.key): v for v in self._services.values()}

    def service_by_key(self, manual_id: str, key: str) -> ServiceView:
        """The service by its stable name in a manual (what tickets store), not the row id."""
        try:
            return self._services_by_key[(manual_id, key)]
        except (KeyError, TypeError):
            raise NotFound(f"no service {key!r} in manual {manual_id!r}") from None

    def resolve_service(self, text: str, insurer: str | int | None = None) -> list[ServiceView]:
        """Services a customer's words name, best first: name, alias, then a category word (二诊, 绿通, MDT)."""
        q = norm(text)
        if not q:
            return []
        iid = self._insurer_id(insurer)
        scored: list[tuple[float, int]] = []
        for v in self._services.values():
            if iid is not None and v.insurer_id != iid:
                continue
            score = service_score(q, v.name, [norm(a) for a in v.aliases if norm(a)], v.category)
            if score:
                scored.append((score, v.id))
        # ties: the service the manual says more about (facts, coverage lists) first
        richness = {sid: len(self._services[sid].facts) + 10 * len(self._coverage["svc_lists"].get(sid, []))
                    for _, sid in scored}
        scored.sort(key=lambda x: (-x[0], -richness[x[1]], x[1]))
        return [self._services[sid] for _, sid in scored]

    # -- coverage ------------------------------------------------------------
    def coverage(self, service_id: int, city_text: str) -> CoverageAnswer:
        return coverage.city_coverage(self, service_id, city_text)

    def coverage_lists(self, service_id: int) -> list[CoverageListView]:
        """The city and hospital lists a service's coverage is read from, in store order."""
        cov = self._coverage
        out = []
        for lid in cov["svc_lists"].get(service_id, []):
            name, kind, mid, a, b = cov["lists"][lid]
            out.append(CoverageListView(lid, name, kind, lid not in cov["incomplete"],
                                        self.source(mid, a, b, section=name)))
        return out

    def hospitals(self, service_id: int, city_text: str) -> list[HospitalView]:
        return coverage.listed_hospitals(self, service_id, city_text)

    def province_coverage(self, service_id: int, province: str) -> tuple[str, tuple[str, ...], tuple[Source, ...]]:
        """A service in a whole province: (covered | partial | not_covered | unknown, listed places, lines)."""
        return coverage.province_coverage(self, service_id, province)

    def covered_nearby(self, service_id: int, city_code: str | None) -> list[tuple[str, Source]]:
        """Listed cities of the service in the same province as city_code, each with its line."""
        return coverage.covered_in_province(self, service_id, city_code)

    def service_lists(self, service_id: int) -> list[tuple[str, str, Source]]:
        """(name, kind, lines) of the city and hospital lists of a service."""
        return coverage.service_lists(self, service_id)

    def listed_cities(self, service_id: int, limit: int = 8) -> list[tuple[str, Source]]:
        """The cities of the service's city lists, each with its line (at most `limit`)."""
        return coverage.listed_cities(self, service_id, limit)

    def find_hospital(self, text: str, limit: int = 10) -> list[HospitalView]:
        """Hospitals by full name, short name or alias (协和, 华西, 温医二院), best first."""
        q = norm(text)
        if len(q) < 2 and not q.isdigit():
            return []
        keys = self._hospital_keys
        scores: dict[int, tuple[float, str]] = {}

        def put(hid: int, s: float, k: str) -> None:
            if s > scores.get(hid, (0, ""))[0]:
                scores[hid] = (s, k)

        for hid, w in keys.get(q, []):
            put(hid, w, q)
        if not scores:
            for k, hits in keys.items():
                if (len(k) >= 3 and k in q) or (len(q) >= 2 and q in k and len(k) >= 3):
                    for hid, w in hits:
                        put(hid, hospital_text_score(q, k, w), k)
        ranked = sorted(scores.items(), key=lambda x: (-x[1][0], len(self._hospitals[x[0]].name), x[0]))
        groups: dict[str, list[tuple[int, float, str]]] = {}
        for hid, (s, k) in ranked:
            groups.setdefault(hospital_name_key(self._hospitals[hid].name), []).append((hid, s, k))
        out = []
        for members in list(groups.values())[:limit]:
            hid, s, k = members[0]
            v = self._hospital_view(self._hospitals[hid], k, round(s, 2))
            out.append(replace(v, ids=tuple(x[0] for x in members)))
        return out

    # -- diseases, drugs -----------------------------------------------------
    @cached_property
    def _diseases(self) -> list[DiseaseView]:
        with self._session() as s:
            rows = s.execute(select(m.Disease, m.DiseaseList).join(m.DiseaseList, m.Disease.list_id == m.DiseaseList.id)
                             .order_by(m.Disease.id)).all()
            return [DiseaseView(d.id, d.name, tuple(d.aliases or ()), d.definition, dl.name,
                                self.source(dl.manual_id, d.line, section=dl.name)) for d, dl in rows]

    @cached_property
    def _disease_lists(self) -> list[DiseaseListView]:
        by_id = {d.id: d for d in self._diseases}
        with self._session() as s:
            members: dict[int, list[DiseaseView]] = defaultdict(list)
            for did, lid in s.execute(select(m.Disease.id, m.Disease.list_id).order_by(m.Disease.id)):
                if did in by_id:
                    members[lid].append(by_id[did])
            return [DiseaseListView(dl.id, dl.name, tuple(members[dl.id]),
                                    self.source(dl.manual_id, dl.line_start, dl.line_end, section=dl.name))
                    for dl in s.scalars(select(m.DiseaseList).order_by(m.DiseaseList.id))]

    def disease_list(self, name: str, manual_id: str | None = None) -> DiseaseListView | None:
        """The disease list of that name; when several manuals have one, manual_id's own first."""
        lists = [dl for dl in self._disease_lists if dl.name == name]
        if not lists:
            return None
        return next((dl for dl in lists if dl.source.manual_id == manual_id), lists[0])

    @cached_property
    def _drugs(self) -> list[DrugView]:
        with self._session() as s:
            return [DrugView(d.id, d.name, d.brand, d.maker, d.spec, d.indication, d.list_name,
                             self._src(d, section=d.list_name)) for d in s.scalars(select(m.Drug).order_by(m.Drug.id))]

    def find_disease(self, text: str, limit: int = 10) -> list[DiseaseView]:
        q = norm(text)
        if not q:
            return []
        hits = [(name_score(q, [d.name, *d.aliases]), d) for d in self._diseases]
        hits = sorted((h for h in hits if h[0] > 0), key=lambda x: (-x[0], x[1].id))[:limit]
        return [DiseaseView(**{**d.__dict__, "score": round(s, 2)}) for s, d in hits]

    def find_drug(self, text: str, limit: int = 10) -> list[DrugView]:
        q = norm(text)
        if not q:
            return []
        hits = [(name_score(q, [d.name, d.brand or ""]), d) for d in self._drugs]
        hits = sorted((h for h in hits if h[0] > 0), key=lambda x: (-x[0], x[1].id))[:limit]
        return [DrugView(**{**d.__dict__, "score": round(s, 2)}) for s, d in hits]

    # -- retrieval -----------------------------------------------------------
    @cached_property
    def _index(self):
        from knowledge.search import index_for

        return index_for(self.engine)

    def search(self, text: str, insurer: str | int | None = None, k: int = 5) -> list[PassageHit]:
        """BM25 over pkuseg tokens of the manuals' passages."""
        iid = self._insurer_id(insurer)
        mids = None if iid is None else {mid for mid, man in self._manuals.items() if man.insurer_id == iid}
        out = []
        for doc, score in self._index.passages(text, k=k, manual_ids=mids):
            out.append(PassageHit(doc.id, doc.section, doc.text, doc.service_id, round(score, 4),
                                  self.source(doc.manual_id, doc.line_start, doc.line_end, section=doc.section)))
        return out

    # -- clauses ---------------------------------------------------------------
    @cached_property
    def _clauses(self) -> list[ClauseView]:
        """Every manual cut into clauses, each with the service whose lines hold it (tightest span)."""
        out: list[ClauseView] = []
        spans: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for v in self._services.values():
            spans[v.manual_id].append((v.line_start, v.line_end, v.id))
        for mid in sorted(self._manuals):
            lines = self._manual_lines(mid) or []
            for c in segment(mid, lines):
                inside = [(b - a, sid) for a, b, sid in spans[mid] if a <= c.line_start <= b]
                sid = min(inside)[1] if inside else None
                out.append(ClauseView(len(out), mid, c.line_start, c.line_end, c.text, sid,
                                      self._section_for(mid, c.line_start, c.line_end)))
        return out

    @cached_property
    def _clause_features(self) -> tuple[list[frozenset[str]], dict[str, float]]:
        """Each clause's words (pkuseg tokens plus the 2-character pieces of longer words, so that two
        segmentations of the same words still meet) and each word's inverse document frequency."""
        import math

        feats = [frozenset(self.features(c.text)) for c in self._clauses]
        df: dict[str, int] = defaultdict(int)
        for f in feats:
            for w in f:
                df[w] += 1
        n = len(feats) or 1
        idf = {w: math.log(1 + (n - k + 0.5) / (k + 0.5)) for w, k in df.items()}
        return feats, idf

    def features(self, text: str) -> set[str]:
        """The words of a text as clauses are indexed (see _clause_features)."""
        out: set[str] = set()
        for t in self._index.query_tokens(text):
            out.add(t)
            if len(t) >= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in t):
                out.update(t[i:i + 2] for i in range(len(t) - 1))
        return out

    def overlap(self, words: set[str], clause_id: int) -> tuple[float, set[str]]:
        """Sum of the idf of the words a clause shares with the query, and those words."""
        feats, idf = self._clause_features
        shared = words & feats[clause_id]
        return sum(idf.get(w, 0.0) for w in shared), shared

    def idf(self, word: str) -> float:
        return self._clause_features[1].get(word, 0.0)

    def clauses(self, manual_id: str | None = None, service_id: int | None = None) -> list[ClauseView]:
        return [c for c in self._clauses if (manual_id is None or c.manual_id == manual_id)
                and (service_id is None or c.service_id == service_id)]

    def clause_source(self, c: ClauseView) -> Source:
        return self.source(c.manual_id, c.line_start, c.line_end, section=c.section, quote=c.text)

    def tokens(self, text: str) -> list[str]:
        """The store's tokenisation (pkuseg with the store's user dictionary, no stop words)."""
        return self._index.query_tokens(text)

    def faq(self, text: str, insurer: str | int | None = None, service_id: int | None = None,
            k: int = 5) -> list[FaqView]:
        iid = self._insurer_id(insurer)
        mids = None if iid is None else {mid for mid, man in self._manuals.items() if man.insurer_id == iid}
        out = []
        for doc, score in self._index.faqs(text, k=k, manual_ids=mids, service_id=service_id):
            out.append(FaqView(doc.id, doc.section, doc.text, doc.service_id,
                               self.source(doc.manual_id, doc.line_start, doc.line_end), round(score, 4)))
        return out

    # -- contacts, editions, entitlements -----------------------------------
    def contacts(self, insurer: str | int | None = None) -> list[ContactView]:
        iid = self._insurer_id(insurer)
        mids = {mid for mid, man in self._manuals.items() if iid is None or man.insurer_id == iid}
        with self._session() as s:
            rows = s.scalars(select(m.Contact).where(m.Contact.manual_id.in_(mids)).order_by(m.Contact.id)).all()
            return [ContactView(c.id, c.kind, c.label, c.value, c.service_id, self._src(c)) for c in rows]

    @cached_property
    def _editions(self) -> dict[int, EditionView]:
        prods = self._products
        with self._session() as s:
            return {e.id: EditionView(e.id, prods[e.product_id].name if e.product_id in prods else "", e.product_id,
                                      e.kind, e.name, e.validity, dict(e.rule or {}), self._src(e))
                    for e in s.scalars(select(m.Edition).order_by(m.Edition.id))}

    def edition(self, edition_id: int) -> EditionView:
        """One edition, tier or plan by id."""
        try:
            return self._editions[int(edition_id)]
        except (KeyError, ValueError, TypeError):
            raise NotFound(f"no edition with id {edition_id!r}") from None

    def editions(self, product: str | int | None = None) -> list[EditionView]:
        prods = self._products
        if product is None or product == "":
            pids = set(prods)
        elif isinstance(product, int):
            pids = {product}
        else:
            q = norm(product)
            pids = {p.id for p in prods.values()
                    if q == norm(p.name) or q in {norm(a) for a in p.aliases or []} or (len(q) >= 2 and q in norm(p.name))}
        return [e for e in self._editions.values() if e.product_id in pids]

    def entitlements(self, service_id: int) -> list[EntitlementView]:
        svc = self.service(service_id)
        eds = {e.id: e.name for e in self._editions.values()}
        with self._session() as s:
            rows = s.scalars(select(m.Entitlement).where(m.Entitlement.service_id == svc.id)
                             .order_by(m.Entitlement.id)).all()
            return [EntitlementView(e.id, e.service_id, eds.get(e.edition_id, ""), e.edition_id,
                                    eds.get(e.tier_id) if e.tier_id else None, e.tier_id, e.included, e.usage_limit,
                                    e.usage_period, e.text, self._src(e)) for e in rows]


def _places_inside(note: str | None, code: str | None, province: str | None) -> tuple[str, ...]:
    """The county-level places a city row's note names (红河（个旧市、开远市）), when every one of them lies
    in that city: the row lists only them. () when the note is anything else."""
    from knowledge import geo

    if not note or not code:
        return ()
    parts = [p.strip() for p in re.split(r"[、,，;；/]", note) if p.strip()]
    for p in parts:
        res = geo.resolve_city(p, province_hint=province)
        if not geo.is_county_level(p, province) or res.status != "ok" or res.city is None or res.city.code != code:
            return ()
    return tuple(parts)
