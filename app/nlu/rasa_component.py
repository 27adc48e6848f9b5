"""Our NLU as a Rasa custom component (config.yml), for a Rasa server trained on this
project: the same intents and symptom entities as our own service, the context flags
(negated, hypothetical, family, ...) as entity attributes.

Imported only by Rasa (its own environment, `make rasa-check`); nothing in the service
imports it. It trains nothing: the models are built from nlu_data/ by app.triager, as in
the service. A message in a language the bot cannot read gets `nlu_fallback`; the turn's
decision (action_decide_turn) hands it to a person.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from app.nlu.pipeline import UnsupportedLanguageError
from app.triager import Triager

FALLBACK = {"name": "nlu_fallback", "confidence": 1.0}


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=False,
)
class TriageNLU(GraphComponent):
    def __init__(self, triager: Triager) -> None:
        self.triager = triager

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TriageNLU:
        return cls(Triager())

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            try:
                parse = self.triager.parse(text).to_rasa()
            except UnsupportedLanguageError:
                parse = {"intent": FALLBACK, "intent_ranking": [FALLBACK], "entities": []}
            message.set(INTENT, parse["intent"], add_to_output=True)
            message.set(INTENT_RANKING_KEY, parse["intent_ranking"], add_to_output=True)
            found = [{**e, "extractor": type(self).__name__} for e in parse["entities"]]
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), *found], add_to_output=True)
        return messages
