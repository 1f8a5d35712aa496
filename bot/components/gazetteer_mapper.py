"""Rasa 3.6 component: entity values from the gazetteer ids, one extractor per span.

Put it after SpacyEntityExtractor and RegexEntityExtractor and before EntitySynonymMapper:

    - name: bot.components.gazetteer_mapper.GazetteerEntityMapper

1. SpacyEntityExtractor reports ent.text as the value; the entity_ruler built by
   bot/nlp/build_spacy.py stores the canonical value in ent.ent_id_. This component puts
   that id in "value" (温医二院 -> 温州医学院附属第二医院, 魔都 -> 上海, 绿铜 -> 绿通).
2. Deterministic extractors (gazetteer, regexes) win over DIET: a DIET entity that
   overlaps one of theirs is dropped, so a policy number is not reported twice.
3. topic is one of 流程/材料/时效/费用 (by keyword when DIET cuts a span the synonyms
   do not list). Identifiers are normalised: no spaces or dashes in phone and id_number, upper case
   policy and ticket numbers.
Rasa must import it: run rasa with the project root on PYTHONPATH (scripts/train.sh does).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import bot.nlp.spacy_components  # noqa: F401  registers the zh pipeline's split_scripts

SPACY_DOC = "text_spacy_doc"  # rasa.nlu.constants.SPACY_DOCS[TEXT]
DETERMINISTIC = {"SpacyEntityExtractor", "RegexEntityExtractor"}


TOPICS = ("流程", "材料", "时效", "费用")
# keyword -> topic, first match wins; anything else about applying is 流程
_TOPIC_WORDS = (("费用", re.compile(r"钱|费|免费|自费|谁出|谁付")),
                ("材料", re.compile(r"材料|资料|证件|身份证|带什么|准备|填|表|清单|病历")),
                ("时效", re.compile(r"多久|多长|几天|时效|等|到账|审核|多快|时间|提前")))


def normalise_topic(value: str) -> str:
    if value in TOPICS:
        return value
    for topic, rx in _TOPIC_WORDS:
        if rx.search(value):
            return topic
    return "流程"


def normalise_identifier(entity: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if entity == "topic":
        return normalise_topic(value)
    if entity in ("phone", "id_number"):
        return re.sub(r"[\s\-]", "", value).upper()
    if entity in ("policy_number", "ticket_number"):
        return re.sub(r"\s", "", value).upper()
    return value


def reconcile(entities: List[Dict[Text, Any]], ids: Dict[tuple, str]) -> List[Dict[Text, Any]]:
    """Pure function behind process(): ids maps (start, end, label) -> canonical value."""
    fixed: List[Dict[Text, Any]] = []
    for e in entities:
        e = dict(e)
        if e.get("extractor") == "SpacyEntityExtractor":
            cid = ids.get((e.get("start"), e.get("end"), e.get("entity")))
            if cid:
                e["value"] = cid
        e["value"] = normalise_identifier(e.get("entity", ""), e.get("value"))
        fixed.append(e)
    hard = [e for e in fixed if e.get("extractor") in DETERMINISTIC]
    out = []
    seen = set()
    for e in fixed:
        if e.get("extractor") not in DETERMINISTIC:
            if any(h.get("start", 0) < e.get("end", 0) and e.get("start", 0) < h.get("end", 0) for h in hard):
                continue
        key = (e.get("entity"), e.get("start"), e.get("end"), e.get("value"))
        if key in seen:  # the same entity from two extractors
            continue
        seen.add(key)
        out.append(e)
    return out


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class GazetteerEntityMapper(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "GazetteerEntityMapper":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if not entities:
                continue
            doc = message.get(SPACY_DOC)
            ids: Dict[tuple, str] = {}
            if doc is not None:
                for ent in getattr(doc, "ents", ()):
                    if ent.ent_id_:
                        ids[(ent.start_char, ent.end_char, ent.label_)] = ent.ent_id_
            message.set(ENTITIES, reconcile(entities, ids), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        return None
