"""Rasa 3.6 component, first in the pipeline: the message text made safe for spaCy.

    - name: bot.components.text_cleaner.TextCleaner

A lone surrogate (\\ud800) is valid in JSON, so Rasa's REST channel and POST /model/parse accept it, but
spaCy's string store cannot encode it and the whole parse fails: a 500 from /model/parse, and a REST turn
answered with nothing. Lone surrogates and control characters are dropped (core.text.plain, the same
rule the actions and stores use); any other text goes on untouched.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.text import plain


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextCleaner(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TextCleaner":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                clean = plain(text)
                if clean != text:
                    message.set(TEXT, clean)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        return None
