"""NLU training/test data and gazetteer checks (modern .venv; no Rasa needed).

The spaCy pipeline and the trained model are checked in tests/test_nlu_pipeline.py.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "nlu_data" / "train"
TEST = ROOT / "nlu_data" / "test"
DOMAIN = ROOT / "bot" / "domain.yml"
ANNOT = re.compile(r"\[([^\]]+)\](?:\((\w+)(?::([^)]+))?\)|\{[^}]*\})")
MAIN_INTENTS = ["ask_services", "ask_service_info", "ask_coverage", "ask_eligibility", "ask_how_to_apply",
                "open_ticket", "inform"]
CONTRACT_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "inform", "bot_challenge", "ask_services",
                    "ask_service_info", "ask_coverage", "ask_eligibility", "ask_how_to_apply", "ask_contact",
                    "open_ticket", "ticket_status", "cancel_ticket", "human_handoff", "complaint", "out_of_scope"}
CONTRACT_ENTITIES = {"insurer", "product", "service", "city", "hospital", "disease", "person", "date",
                     "policy_number", "phone", "id_number", "topic", "ticket_number"}


def _items(folder: Path, generated: bool | None = None):
    for f in sorted(folder.glob("*.yml")):
        if generated is not None and f.name.startswith("generated_") != generated:
            continue
        for item in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("nlu", []):
            yield f, item


def _examples(folder: Path, generated: bool | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for _f, item in _items(folder, generated):
        if "intent" in item:
            exs = [x.strip()[2:].strip() for x in item["examples"].splitlines() if x.strip().startswith("- ")]
            out.setdefault(item["intent"], []).extend(exs)
    return out


def plain(example: str) -> str:
    return ANNOT.sub(lambda m: m.group(1), example)


def _regexes() -> dict[str, re.Pattern]:
    out = {}
    for _f, item in _items(TRAIN):
        if "regex" in item:
            pats = [x.strip()[2:] for x in item["examples"].splitlines() if x.strip().startswith("- ")]
            out[item["regex"]] = re.compile("|".join(pats))
    return out


def test_every_contract_intent_has_examples_in_train_and_test():
    train, test = _examples(TRAIN), _examples(TEST)
    assert CONTRACT_INTENTS <= set(train)
    assert CONTRACT_INTENTS <= set(test)


def test_main_intents_have_40_hand_written_examples_and_generated_stay_below():
    hand, gen = _examples(TRAIN, generated=False), _examples(TRAIN, generated=True)
    for intent in MAIN_INTENTS:
        assert len(hand[intent]) >= 40, intent
    for intent, exs in gen.items():
        assert len(exs) < len(hand[intent]), intent


def test_generated_files_say_so():
    for f in TRAIN.glob("generated_*.yml"):
        assert f.read_text(encoding="utf-8").startswith("# GENERATED")


def test_held_out_split_is_large_enough_and_disjoint():
    hand = {plain(e) for exs in _examples(TRAIN).values() for e in exs}
    test = [plain(e) for exs in _examples(TEST).values() for e in exs]
    n_hand = sum(len(v) for v in _examples(TRAIN, generated=False).values())
    assert len(test) >= 0.15 * n_hand
    assert not (set(test) & hand), sorted(set(test) & hand)
    assert len(test) == len(set(test))


def test_no_duplicate_examples_in_train():
    c = Counter(plain(e) for exs in _examples(TRAIN).values() for e in exs)
    assert [k for k, v in c.items() if v > 1] == []


def test_annotations_use_contract_entities_only():
    for folder in (TRAIN, TEST):
        for exs in _examples(folder).values():
            for e in exs:
                for m in ANNOT.finditer(e):
                    if m.group(2):
                        assert m.group(2) in CONTRACT_ENTITIES, e


def test_domain_lists_contract_intents_and_entities():
    d = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in d["intents"]}
    assert CONTRACT_INTENTS <= intents
    assert CONTRACT_ENTITIES <= set(d["entities"])


@pytest.mark.parametrize("entity,text,expected", [
    ("policy_number", "我的保单号是PAH2025000101谢谢", "PAH2025000101"),
    ("policy_number", "保单cpl2023000501能用吗", "cpl2023000501"),
    ("ticket_number", "查一下T20250318-000123的进度", "T20250318-000123"),
    ("phone", "电话13900000001", "13900000001"),
    ("id_number", "身份证11010119800101001X", "11010119800101001X"),
])
def test_regexes_find_identifiers(entity, text, expected):
    m = _regexes()[entity].search(text)
    assert m and m.group(0) == expected


def test_regexes_do_not_cross_match():
    rx = _regexes()
    assert not rx["policy_number"].search("T20250318-000123")  # a ticket is not a policy
    assert not rx["phone"].search("110101198001010012")  # no phone inside an id number
    assert not rx["phone"].search("1390000000123")  # 13 digits is not a mobile
    assert not rx["id_number"].search("13900000001")


def test_regexes_match_every_seeded_policy_number():
    src = (ROOT / "policies" / "seed.py").read_text(encoding="utf-8")
    numbers = re.findall(r'Spec\("([A-Z0-9]+)"', src)
    assert len(numbers) >= 10
    rx = _regexes()["policy_number"]
    for n in numbers:
        assert rx.fullmatch(n), n


def test_regexes_match_the_ticket_service_format():
    from tickets.service import _TICKET_NO

    rx = _regexes()["ticket_number"]
    for t in ("T20250318-000123", "T20251231-1234567"):
        assert _TICKET_NO.match(t) and rx.fullmatch(t)


# -- gazetteer (needs the knowledge store) ---------------------------------------------
@pytest.fixture(scope="module")
def gazetteer():
    from knowledge.query import KnowledgeBase

    kb = KnowledgeBase()
    try:
        if not kb.services():
            pytest.skip("knowledge store is empty: run `python -m knowledge build`")
    except Exception as exc:  # noqa: BLE001  no store at all
        pytest.skip(f"no knowledge store: {exc}")
    from bot.nlp.export_gazetteer import export

    return export(kb), kb


def test_gazetteer_maps_aliases_to_canonical_values(gazetteer):
    g, _kb = gazetteer
    e = g["entities"]
    assert e["hospital"]["温医二院"] == "温州医学院附属第二医院"
    assert e["hospital"]["协和"] == "协和"  # three hospitals: left for find_hospital to disambiguate
    assert e["city"]["魔都"] == "上海"
    assert e["city"]["昆山市"] == "苏州"
    assert e["service"]["绿铜"] == "绿通"
    assert e["service"]["二诊"] == "二诊"  # several insurers' second opinions
    assert e["service"]["MDT"] == "MDT"
    assert e["insurer"]["平安"] == "平安健康保险股份有限公司"
    assert e["product"]["蓝本"] == "太保蓝本"
    assert e["disease"]["尿毒症"] == "终末期肾病"
    assert g["problems"] == []


def test_gazetteer_service_values_resolve_in_the_store(gazetteer):
    g, kb = gazetteer
    for form, value in g["entities"]["service"].items():
        assert kb.resolve_service(value), (form, value)
    names = {s["name"] for s in g["services"]}
    # every service of the store is reachable by its own name
    for s in kb.services():
        assert g["entities"]["service"].get(s.name.replace(" ", "")) in names | {s.name.replace(" ", "")} \
            or s.name.replace(" ", "") in g["entities"]["service"].values() \
            or kb.resolve_service(g["entities"]["service"][s.name.replace(" ", "")]), s.name


def test_gazetteer_city_values_resolve_and_ordinary_words_are_left_out(gazetteer):
    from knowledge import geo

    g, _kb = gazetteer
    cities = g["entities"]["city"]
    for form in ("合作", "来宾", "东方", "长寿"):
        assert form not in cities, form
    for value in set(cities.values()):
        assert geo.resolve_city(value).status == "ok", value


def test_gazetteer_has_one_label_per_form(gazetteer):
    g, _kb = gazetteer
    seen: dict[str, str] = {}
    for label, forms in g["entities"].items():
        for f in forms:
            assert f not in seen, (f, label, seen.get(f))
            seen[f] = label


def test_gazetteer_export_is_stable(gazetteer, tmp_path):
    from bot.nlp.export_gazetteer import write

    g, _kb = gazetteer
    out = tmp_path / "g.json"
    assert write(g, out) is True
    assert write(g, out) is False  # unchanged content: not rewritten
    assert json.loads(out.read_text(encoding="utf-8"))["hash"] == g["hash"]


def test_person_words_agree_between_ruler_and_synonyms():
    """bot/nlp/colloquial.yaml (entity_ruler) and the person synonyms (DIET path) give one value."""
    coll = yaml.safe_load((ROOT / "bot" / "nlp" / "colloquial.yaml").read_text(encoding="utf-8"))["person"]
    syn: dict[str, str] = {}
    for _f, item in _items(TRAIN):
        if "synonym" in item:
            for x in item["examples"].splitlines():
                if x.strip().startswith("- "):
                    syn[x.strip()[2:].strip()] = item["synonym"]
    person_values = {v for v in coll.values()}
    for form, value in syn.items():
        if form in coll:
            assert coll[form] == value, form
    assert person_values <= set(syn.values())
