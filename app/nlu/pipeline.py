"""The NLU layer: per-language extractor and intent classifier, built from `nlu_data/`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from app.nlu.classifier import JointScorer
from app.nlu.context import load_rules
from app.nlu.extractor import Extraction, Extractor
from app.nlu.intents import IntentClassifier
from app.nlu.model_cache import fingerprint, load_or_build
from app.nlu.models import MessageParse, SymptomMention
from app.nlu.safety_net import RedFlagNet
from app.nlu.sound import han_ratio
from app.nlu.timing import DEFAULT_THRESHOLDS, WINDOWS, Thresholds
from app.nlu.training_data import LABELLED_DIR, NLU_DATA_DIR, load_language

SUPPORTED_LANGUAGES = ("en", "zh")
MAX_MESSAGE_CHARS = 5000  # longer messages are refused at the edges (HTTP 413, CLI error)


ENGLISH = "en"
# An English word ("floaters", "my eyes look kind of yellow") inside another language.
_ENGLISH_WORDS = re.compile(r"[A-Za-z]{3,}")


def merged(own: Extraction, english: Extraction) -> Extraction:
    """The message's own-language extraction with what English words in it add: mentions
    not already found at the same place, the most recent infusion window of the two."""

    def same(a: SymptomMention, b: SymptomMention) -> bool:
        return a.concept == b.concept and a.start < b.end and b.start < a.end

    extra = [m for m in english.symptoms if not any(same(m, o) for o in own.symptoms)]
    topics = own.topics + [
        t for t in english.topics if t.topic not in {o.topic for o in own.topics}
    ]
    windows = {own.infusion_window, english.infusion_window}
    return replace(
        own,
        symptoms=sorted(own.symptoms + extra, key=lambda m: (m.start, m.end)),
        topics=topics,
        is_question=own.is_question or english.is_question,
        infusion_window=next(w for w in WINDOWS if w in windows),
        months_since_stopped=own.months_since_stopped or english.months_since_stopped,
        names_medicine=own.names_medicine or english.names_medicine,
        conditions=list(dict.fromkeys(own.conditions + english.conditions)),
    )


class UnsupportedLanguageError(ValueError):
    """Asked for a language the service has no model for."""


class LexiconError(ValueError):
    """A lexicon entry names a concept or topic the protocol does not define."""


@dataclass
class LanguageModel:
    extractor: Extractor
    classifier: IntentClassifier
    safety_net: RedFlagNet | None
    _scorer: JointScorer | None = field(default=None, init=False, repr=False)

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The intent classifier's and the safety net's scores, from one reading of `text`
        (rebuilt when the safety net is swapped, as leave-one-set-out evaluation does)."""
        models = (self.classifier, self.safety_net) if self.safety_net else (self.classifier,)
        if self._scorer is None or self._scorer.classifiers != models:
            self._scorer = JointScorer(models)
        scores = self._scorer.scores(text)
        return scores[0], scores[1] if self.safety_net else None


def detect_language(text: str) -> str:
    """'zh' when the text is mostly Chinese characters; 'en' when it is mostly Latin letters
    (or has none); otherwise 'und' (another script: no model reads it)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    if han_ratio("".join(letters)) > 0.3:
        return "zh"
    if sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f") / len(letters) < 0.5:
        return "und"
    return "en"


def _build(
    lang: str,
    concepts: frozenset[str],
    topics: frozenset[str],
    data_dir: Path,
    labelled_dir: Path,
    thresholds: Thresholds,
) -> LanguageModel:
    data = load_language(lang, data_dir)
    unknown = sorted(set(data.synonyms) - concepts - topics)
    if unknown:
        names = ", ".join(unknown)
        raise LexiconError(f"nlu_data/{lang}: synonyms for unknown concepts/topics: {names}")
    return LanguageModel(
        Extractor(data, load_rules(lang), topics, thresholds),
        IntentClassifier(dict(data.intents)),
        RedFlagNet.from_folder(labelled_dir / lang),
    )


class NLU:
    """Parses patient text into intent, symptom mentions with context, topics and timing."""

    def __init__(
        self,
        *,
        concepts: frozenset[str],
        topics: frozenset[str],
        languages: tuple[str, ...] = SUPPORTED_LANGUAGES,
        data_dir: Path = NLU_DATA_DIR,
        labelled_dir: Path = LABELLED_DIR,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.models: dict[str, LanguageModel] = {}
        for lang in languages:
            inputs = [*(data_dir / lang).rglob("*"), *(labelled_dir / lang).glob("*.jsonl")]
            numbers = thresholds.for_language(lang)
            arguments = repr((lang, sorted(concepts), sorted(topics), numbers))
            self.models[lang] = load_or_build(
                f"nlu-{lang}",
                fingerprint(inputs, arguments),
                partial(_build, lang, concepts, topics, data_dir, labelled_dir, numbers),
            )

    def language_for(self, text: str, lang: str | None) -> str:
        chosen = lang or detect_language(text)
        if chosen not in self.models:
            raise UnsupportedLanguageError(
                f"language {chosen!r} is not supported (supported: {', '.join(self.models)})"
            )
        return chosen

    def parse(self, text: str, lang: str | None = None) -> MessageParse:
        chosen = self.language_for(text, lang)
        model = self.models[chosen]
        intent_scores, net_scores = model.scores(text)
        intent, ranking = model.classifier.predict_from(intent_scores)
        found = model.extractor.extract(text)
        if chosen != ENGLISH and ENGLISH in self.models and _ENGLISH_WORDS.search(text):
            # "my eyes look kind of yellow,而且…": English words inside another language are
            # read by the English extractor too; every sign either finds counts.
            found = merged(found, self.models[ENGLISH].extractor.extract(text))
        guess = model.safety_net.best_from(net_scores) if model.safety_net else None
        return MessageParse(
            text=text,
            lang=chosen,
            intent=intent,
            intent_ranking=ranking,
            symptoms=found.symptoms,
            topics=found.topics,
            is_question=found.is_question,
            infusion_window=found.infusion_window,
            months_since_stopped=found.months_since_stopped,
            names_medicine=found.names_medicine,
            conditions=found.conditions,
            red_flag_guess=guess,
        )
