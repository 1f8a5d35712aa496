"""The spaCy zh pipeline and the entity mapper component, checked in .venv-rasa.

pytest runs in the modern .venv, which has no spaCy/Rasa: each check runs a short script
with .venv-rasa/bin/python. Skipped when that env or var/nlp/zh_pipeline is missing
(build it with scripts/train.sh).
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RPY = ROOT / ".venv-rasa" / "bin" / "python"
PIPE = ROOT / "var" / "nlp" / "zh_pipeline"

pytestmark = pytest.mark.skipif(not RPY.exists(), reason="no .venv-rasa")


def rasa_py(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    r = subprocess.run([str(RPY), "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def parsed():
    if not (PIPE / "config.cfg").exists():
        pytest.skip("no spaCy pipeline: run scripts/train.sh")
    texts = ["我妈在温医二院住院，重疾绿通能用吗", "魔都的二诊怎么申请", "我是平安的客户MDT有吗",
             "绿铜在昆山市能不能用", "保单pah2025000102能不能用陪诊", "单号t20250210-000045 不用了",
             "尿毒症可以用众安的护工吗", "", "？？？", "合作愉快"]
    return rasa_py(f"""
        import json, spacy
        import bot.nlp.spacy_components
        nlp = spacy.load({str(PIPE)!r})
        out = {{}}
        for t in {texts!r}:
            d = nlp(t)
            out[t] = {{"tokens": [x.text for x in d], "ents": [[e.text, e.label_, e.ent_id_] for e in d.ents]}}
        print(json.dumps(out, ensure_ascii=False))
    """)


def test_gazetteer_terms_stay_one_token(parsed):
    toks = parsed["我妈在温医二院住院，重疾绿通能用吗"]["tokens"]
    assert "温医二院" in toks and "重疾绿通" in toks


def test_entity_ruler_labels_and_canonical_ids(parsed):
    ents = {(t, lab, i) for t, lab, i in parsed["我妈在温医二院住院，重疾绿通能用吗"]["ents"]}
    assert ("温医二院", "hospital", "温州医学院附属第二医院") in ents
    assert ("重疾绿通", "service", "重疾绿通") in ents
    assert ("我妈", "person", "母亲") in ents
    assert ["魔都", "city", "上海"] in parsed["魔都的二诊怎么申请"]["ents"]
    assert ["MDT", "service", "MDT"] in parsed["我是平安的客户MDT有吗"]["ents"]
    assert ["平安", "insurer", "平安健康保险股份有限公司"] in parsed["我是平安的客户MDT有吗"]["ents"]
    assert ["绿铜", "service", "绿通"] in parsed["绿铜在昆山市能不能用"]["ents"]
    assert ["昆山市", "city", "苏州"] in parsed["绿铜在昆山市能不能用"]["ents"]
    assert ["尿毒症", "disease", "终末期肾病"] in parsed["尿毒症可以用众安的护工吗"]["ents"]


def test_identifiers_are_split_from_chinese(parsed):
    assert "pah2025000102" in parsed["保单pah2025000102能不能用陪诊"]["tokens"]
    assert "t20250210-000045" in parsed["单号t20250210-000045 不用了"]["tokens"]


def test_bad_input_gives_no_entities(parsed):
    assert parsed[""]["ents"] == [] and parsed["？？？"]["ents"] == []
    assert parsed["合作愉快"]["ents"] == []  # 合作 is a city name only in jionlp's table


def test_mapper_reconcile_and_normalise():
    out = rasa_py("""
        import json
        from bot.components.gazetteer_mapper import reconcile, normalise_topic
        ents = [
          {"entity": "hospital", "value": "温医二院", "start": 0, "end": 4, "extractor": "SpacyEntityExtractor"},
          {"entity": "policy_number", "value": "pah2025000101", "start": 7, "end": 20, "extractor": "RegexEntityExtractor"},
          {"entity": "policy_number", "value": "pah20250", "start": 7, "end": 15, "extractor": "DIETClassifier"},
          {"entity": "date", "value": "明天", "start": 21, "end": 23, "extractor": "DIETClassifier"},
          {"entity": "phone", "value": "139 0000 0001", "start": 24, "end": 37, "extractor": "RegexEntityExtractor"},
          {"entity": "topic", "value": "大概要花多少钱", "start": 40, "end": 47, "extractor": "DIETClassifier"},
        ]
        r = reconcile(ents, {(0, 4, "hospital"): "温州医学院附属第二医院"})
        print(json.dumps({"r": [[e["entity"], e["value"], e["extractor"]] for e in r],
                          "t": [normalise_topic(x) for x in ["怎么申请", "要带哪些证件", "多久能约上", "免费吗", "流程", ""]],
                          "empty": reconcile([], {})}, ensure_ascii=False))
    """)
    assert out["r"] == [["hospital", "温州医学院附属第二医院", "SpacyEntityExtractor"],
                        ["policy_number", "PAH2025000101", "RegexEntityExtractor"],
                        ["date", "明天", "DIETClassifier"],
                        ["phone", "13900000001", "RegexEntityExtractor"],
                        ["topic", "费用", "DIETClassifier"]]
    assert out["t"] == ["流程", "材料", "时效", "费用", "流程", "流程"]
    assert out["empty"] == []


def test_text_cleaner_lets_spacy_take_lone_surrogates():
    """Without the cleaner spaCy raises on a lone surrogate (valid in JSON); with it the text is parsed."""
    if not (PIPE / "config.cfg").exists():
        pytest.skip("no spaCy pipeline: run scripts/train.sh")
    out = rasa_py("""
        import json, spacy
        import bot.nlp.spacy_components  # noqa: F401
        from rasa.shared.nlu.training_data.message import Message
        from bot.components.text_cleaner import TextCleaner
        nlp = spacy.load("var/nlp/zh_pipeline")
        raw = ["陪诊\\udc00在上海能用吗", "\\ud800", "a\\x00b", "魔都的二诊"]
        try:
            nlp(raw[0])
            bare = "parsed"
        except UnicodeEncodeError:
            bare = "UnicodeEncodeError"
        msgs = TextCleaner().process([Message(data={"text": t}) for t in raw])
        texts = [m.get("text") for m in msgs]
        print(json.dumps({"bare": bare, "texts": texts, "tokens": [[t.text for t in nlp(x)] for x in texts]},
                         ensure_ascii=False))
    """)
    assert out["bare"] == "UnicodeEncodeError"  # what the component is there for
    assert out["texts"] == ["陪诊在上海能用吗", "", "ab", "魔都的二诊"]  # other text untouched
    assert "上海" in out["tokens"][0] and out["tokens"][1] == []
