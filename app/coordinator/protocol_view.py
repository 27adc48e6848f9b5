"""The protocol as a clinician reads it: levels, categories with their concepts (and
example phrases from each language's lexicon), combination rules, guidance and info
answers in each language with their sources, and the version. Built once from the loaded
triager: pure data for the dashboard page and the JSON API."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.triager import Triager

EXAMPLES_PER_LANGUAGE = 4


def _examples(triager: Triager) -> dict[str, dict[str, list[str]]]:
    """concept -> language -> its first lexicon phrases."""
    found: dict[str, dict[str, list[str]]] = {}
    for lang, model in triager.nlu.models.items():
        for phrase in model.extractor.lexicon.phrases:
            if phrase.entity != "symptom":
                continue
            phrases = found.setdefault(phrase.value, {}).setdefault(lang, [])
            if len(phrases) < EXAMPLES_PER_LANGUAGE and phrase.text not in phrases:
                phrases.append(phrase.text)
    return found


@lru_cache(maxsize=4)
def protocol_view(triager: Triager) -> dict[str, Any]:
    """The view of `triager`'s protocol (built once per triager: it never changes while
    the service runs)."""
    protocol = triager.protocol
    languages = [protocol.lang, *sorted(protocol.translations)]
    localized = {lang: protocol.for_language(lang) for lang in languages}
    examples = _examples(triager)
    levels = sorted(protocol.levels.values(), key=lambda level: -level.rank)
    categories = []
    for level in levels:
        for name, category in protocol.categories.items():
            if category.level != level.name:
                continue
            concepts = [
                {
                    "name": concept.name,
                    "label": concept.label,
                    "in_window": concept.in_window,
                    "asks_window": concept.asks_window,
                    "examples": examples.get(concept.name, {}),
                }
                for concept in protocol.concepts.values()
                if concept.category == name
            ]
            categories.append(
                {
                    "name": name,
                    "level": category.level,
                    "source": category.source,
                    "stop_next_dose": category.stop_next_dose,
                    "concepts": concepts,
                    "guidance": {
                        lang: [line.to_dict() for line in localized[lang].categories[name].guidance]
                        for lang in languages
                    },
                }
            )
    return {
        "version": triager.protocol_version,
        "document": protocol.document.title,
        "languages": languages,
        "infusion_window_hours": protocol.window_hours,
        "fever_celsius": protocol.fever_celsius,
        "fever_celsius_by_language": dict(protocol.fever_celsius_by_language),
        "levels": [
            {
                "name": level.name,
                "red_flag": level.red_flag,
                "alert_severity": level.alert_severity,
            }
            for level in levels
        ],
        "categories": categories,
        "combinations": [
            {
                "name": rule.name,
                "all": list(rule.all),
                "any": list(rule.any),
                "modifiers": list(rule.modifiers),
                "unless_denied": list(rule.unless_denied),
                "category": rule.category,
            }
            for rule in protocol.combinations
        ],
        "info_topics": [
            {
                "name": name,
                "source": topic.source,
                "answer": {
                    lang: [line.to_dict() for line in localized[lang].info_topics[name].answer]
                    for lang in languages
                },
            }
            for name, topic in protocol.info_topics.items()
        ],
    }
