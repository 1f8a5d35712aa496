"""Export the NLU gazetteer from the knowledge store (runs in the modern .venv).

    PYTHONPATH=. .venv/bin/python -m bot.nlp.export_gazetteer [--out var/nlp/gazetteer.json]

Writes, for each gazetteer entity (service, insurer, product, city, hospital, disease),
a map surface form -> entity value, plus the drug names and the service catalogue used
by the generated training examples. bot/nlp/build_spacy.py turns it into the pkuseg user
dictionary and the entity_ruler patterns.

Entity values:
- service: the service name when every service that carries the surface form has that
  name; otherwise the surface form itself (二诊, MDT), which KnowledgeBase.resolve_service
  resolves with the insurer in context.
- insurer: the insurer's full name; product: the product name.
- city: the prefecture's short name (魔都 -> 上海, 昆山市 -> 苏州).
- hospital: the official name when the form names one hospital, else the form (协和).
- disease: the disease name.
- person: the relation (我妈 -> 母亲), from bot/nlp/colloquial.yaml only.
Reviewed colloquial forms and typos come from bot/nlp/colloquial.yaml.
The file is written only when its content changed (its "hash" field is the content hash).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLOQUIAL = Path(__file__).with_name("colloquial.yaml")
DEFAULT_OUT = ROOT / "var" / "nlp" / "gazetteer.json"
ENTITIES = ("person", "service", "insurer", "product", "city", "hospital", "disease")

_CJK = re.compile(r"[\u4e00-\u9fff]")
_TAIL = re.compile(r"[（(][^（）()]*[）)]?$")
_HOSPITAL_WORD = re.compile(r"(..医院|院区|分院|保健院|中心|[一二三四五六七八九]院|附[一二三])$")
# generated bare short names that are split artefacts or ordinary words (城医院, 油田总, 精神病)
_BAD_BARE = re.compile(r"([总中病科城第院]$|^[立城]|^[零一二三四五六七八九十百]+$|^\d+$)")


def clean_form(s: str | None) -> str:
    """Matching form: no spaces, NFKC (full-width Latin and digits to half-width)."""
    import unicodedata

    return unicodedata.normalize("NFKC", s or "").replace(" ", "").replace("\u3000", "").strip()


def _ok(form: str, min_len: int = 2, max_len: int = 40) -> bool:
    return min_len <= len(form) <= max_len and not re.search(r"[，。、；：？！,;:?!\n]", form)


class _Forms:
    """surface form -> set of candidate values, then one value per form."""

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = defaultdict(set)

    def add(self, form: str | None, value: str, min_len: int = 2) -> None:
        f = clean_form(form)
        if f and _ok(f, min_len):
            self.values[f].add(value)

    def resolved(self, ambiguous_as_form: bool = True) -> dict[str, str]:
        out = {}
        for f, vals in sorted(self.values.items()):
            if len(vals) == 1:
                out[f] = next(iter(vals))
            elif ambiguous_as_form:
                out[f] = f
        return out


def _service_forms(name: str, aliases) -> list[str]:
    """A service's name, aliases, and the same without bracketed tails or a 服务 suffix."""
    out = []
    for s in [name, *(aliases or [])]:
        s = clean_form(s)
        for v in (s, _TAIL.sub("", s)):
            out.append(v)
            if v.endswith("服务") and len(v) > 4:
                out.append(v[:-2])
    return list(dict.fromkeys(x for x in out if x))


def _free_text_place(geo, form: str) -> bool:
    """False for forms that are ordinary words in free text (合作, 来宾: geo's not_places)."""
    hits = geo.find_cities(form)
    return len(hits) == 1 and hits[0][0] == 0 and hits[0][1] == len(form)


def _city_value(geo, city) -> str:
    """The short name (上海) unless it names several places (新竹): then the official name."""
    r = geo.resolve_city(city.short)
    return city.short if r.status == "ok" and r.city == city else city.name


def export(kb=None) -> dict:
    from knowledge import geo
    from knowledge.dictionary import hospital_short_names, load_hospital_aliases
    from knowledge.query import KnowledgeBase

    kb = kb or KnowledgeBase()
    colloquial = yaml.safe_load(COLLOQUIAL.read_text(encoding="utf-8")) or {}
    problems: list[str] = []

    # services
    services = kb.services()
    sv = _Forms()
    for s in services:
        for f in _service_forms(s.name, s.aliases):
            sv.add(f, clean_form(s.name))
    service_map = sv.resolved()
    names = {clean_form(s.name) for s in services}
    for form, value in (colloquial.get("service") or {}).items():
        value = clean_form(str(value))
        if value in names or kb.resolve_service(value):
            service_map[clean_form(str(form))] = value  # generic words stay generic
        else:
            problems.append(f"service {form} -> {value}: not in the store")

    # insurers
    ins = _Forms()
    insurers = kb.insurers()
    for i in insurers:
        for f in (i.name, i.short_name, *i.aliases):
            ins.add(f, i.name)
    insurer_map = ins.resolved()
    all_ins_forms = {clean_form(x) for i in insurers for x in (i.name, i.short_name, *i.aliases)}
    for form, value in (colloquial.get("insurer") or {}).items():
        value = clean_form(str(value))
        if value in {i.name for i in insurers} or any(value in f for f in all_ins_forms):
            insurer_map.setdefault(clean_form(str(form)), value)
        else:
            problems.append(f"insurer {form} -> {value}: not an insurer")

    # products
    from sqlalchemy import select

    from knowledge import models as m

    pr = _Forms()
    with kb._session() as sess:
        products = [(p.name, list(p.aliases or [])) for p in sess.scalars(select(m.Product))]
        covered = sorted({(c.raw_name, c.city_name) for c in sess.scalars(select(m.CoverageCity))},
                         key=lambda x: (x[0] or "", x[1] or ""))
    for name, aliases in products:
        for f in (name, *aliases):
            pr.add(f, clean_form(name))
    product_map = pr.resolved()
    pnames = {clean_form(n) for n, _ in products}
    for form, value in (colloquial.get("product") or {}).items():
        value = clean_form(str(value))
        if value in pnames:
            product_map.setdefault(clean_form(str(form)), value)
        else:
            problems.append(f"product {form} -> {value}: not a product")

    # cities: prefecture-level forms from geo, county forms only in full (昆山市) and the
    # forms the manuals' coverage lists use (their raw names)
    ct = _Forms()
    for form in geo.all_city_names():
        if not _CJK.search(form):
            continue
        r = geo.resolve_city(form)
        if r.status != "ok" or r.city is None:
            continue
        if r.via in ("county", "county_rename") and not re.search(r"[县区市旗]$", form):
            continue
        if _free_text_place(geo, form):
            ct.add(form, _city_value(geo, r.city))
    for raw, _city in covered:
        r = geo.resolve_city(raw or "")
        if r.status == "ok" and r.city is not None and _CJK.search(raw or "") and _free_text_place(geo, raw):
            ct.add(raw, _city_value(geo, r.city))
    city_map = ct.resolved(ambiguous_as_form=False)

    # hospitals: full names, stored aliases, YAML aliases, generated short names that still
    # say "hospital" (华西医院) or are 3+ characters; bare 2-character ones only from aliases
    hs = _Forms()
    hosp = list(kb._hospitals.values())
    by_key = defaultdict(list)
    from knowledge.dictionary import hospital_name_key

    for h in hosp:
        by_key[hospital_name_key(h.name)].append(h.name)
        hs.add(h.name, h.name)
        for a in h.aliases or []:
            hs.add(a, h.name)
        for a in hospital_short_names(h.name):
            if _HOSPITAL_WORD.search(a) or (len(a) >= 3 and not _BAD_BARE.search(a)):
                hs.add(a, h.name)
    for alias, targets in load_hospital_aliases().items():
        for t in targets:
            for n in by_key.get(hospital_name_key(t), []):
                hs.add(alias, n)
    for form, value in (colloquial.get("hospital") or {}).items():
        if kb.find_hospital(str(value)):
            hs.add(str(form), str(value))
        else:
            problems.append(f"hospital {form} -> {value}: not in the store")
    hospital_map = {f: v for f, v in hs.resolved().items() if f not in city_map and not f.isdigit()}

    # diseases
    ds = _Forms()
    for d in kb._diseases:
        for f in (d.name, *d.aliases):
            ds.add(f, clean_form(d.name))
    disease_map = ds.resolved()
    dnames = {clean_form(d.name) for d in kb._diseases}
    for form, value in (colloquial.get("disease") or {}).items():
        value = clean_form(str(value))
        if value in dnames:
            disease_map.setdefault(clean_form(str(form)), value)
        else:
            problems.append(f"disease {form} -> {value}: not in the store")

    drugs = sorted({clean_form(d.name) for d in kb._drugs if _ok(clean_form(d.name))}
                   | {clean_form(d.brand) for d in kb._drugs if d.brand and _ok(clean_form(d.brand))})

    person_map = {clean_form(str(f)): str(v) for f, v in (colloquial.get("person") or {}).items()}

    entities = {"person": person_map, "service": service_map, "insurer": insurer_map, "product": product_map, "city": city_map,
                "hospital": hospital_map, "disease": disease_map}
    # one label per form: the more specific entity wins (person > hospital > service > ... > city)
    seen: dict[str, str] = {}
    for label in ("person", "hospital", "service", "disease", "product", "insurer", "city"):
        for f in list(entities[label]):
            if f in seen:
                del entities[label][f]
            else:
                seen[f] = label
    catalogue = [{"id": s.id, "name": clean_form(s.name), "insurer": s.insurer, "category": s.category,
                  "aliases": [clean_form(a) for a in s.aliases]} for s in services]
    body = {"entities": entities, "drugs": drugs, "services": catalogue,
            "insurers": [{"name": i.name, "short_name": i.short_name} for i in insurers],
            "problems": problems}
    digest = hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return {"hash": digest, **body}


def write(data: dict, out: Path) -> bool:
    """Write when the content hash differs; returns True when the file changed."""
    if out.exists():
        try:
            if json.loads(out.read_text(encoding="utf-8")).get("hash") == data["hash"]:
                return False
        except (ValueError, OSError):
            pass
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(out)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    data = export()
    changed = write(data, args.out)
    counts = ", ".join(f"{k} {len(v)}" for k, v in data["entities"].items())
    print(f"gazetteer {'written' if changed else 'unchanged'}: {args.out} ({counts}, drugs {len(data['drugs'])})")
    for p in data["problems"]:
        print("problem:", p, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
