"""Intent classifier: trained from nlu_data, same probabilities as scikit-learn, fallback."""

from __future__ import annotations

import numpy as np
import pytest

from app.nlu.classifier import with_han_bigrams
from app.nlu.intents import FALLBACK_INTENT, IntentClassifier
from app.nlu.pipeline import NLU
from app.triage.protocol import default_protocol


@pytest.fixture(scope="module")
def trained(monkeypatch_module) -> dict:
    """Both languages' models trained here (not loaded from the model cache, which keeps
    no scikit-learn objects), to compare with scikit-learn's own scoring."""
    monkeypatch_module.setenv("TRIAGE_MODEL_CACHE", "off")
    protocol = default_protocol()
    return NLU(concepts=frozenset(protocol.concepts), topics=frozenset(protocol.info_topics)).models


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_fast_scoring_matches_scikit_learn(trained):
    classifier = trained["en"].classifier
    texts = ["hi there", "how often is the infusion?", "my eyes are yellow", "", "???", "x" * 2000]
    reference = classifier.model.predict_proba(classifier.features.transform(texts))
    fast = np.array([classifier.probabilities(text) for text in texts])
    assert np.allclose(reference, fast, atol=1e-9)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello!", "greet"),
        ("thanks so much", "thanks"),
        ("can I speak to a real person please", "request_human"),
        ("how often do I have the drip?", "ask_dosing"),
        ("is it ok to breastfeed on tysabri", "ask_breastfeeding"),
        ("I've had a pounding headache all day", "report_symptom"),
    ],
)
def test_common_intents(triager, text, intent):
    prediction, ranking = triager.nlu.models["en"].classifier.predict(text)
    assert prediction.name == intent
    assert ranking[0].confidence >= ranking[-1].confidence


@pytest.mark.parametrize("intents", [2, 3])
def test_low_confidence_becomes_fallback(intents):
    examples = {"greet": ["hi", "hello"], "thanks": ["thanks", "cheers"], "bye": ["bye", "see ya"]}
    classifier = IntentClassifier(dict(list(examples.items())[:intents]), threshold=0.99)
    reference = classifier.model.predict_proba(classifier.features.transform(["zzzz qqqq"]))[0]
    assert np.allclose(classifier.probabilities("zzzz qqqq"), reference)
    assert classifier.predict("zzzz qqqq")[0].name == FALLBACK_INTENT


def test_needs_two_intents():
    with pytest.raises(ValueError, match="at least two intents"):
        IntentClassifier({"greet": ["hi"]})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_reading_scores_both_models_as_scikit_learn_does(trained, lang):
    # The intent classifier and the safety net are scored from one joint reading of the
    # message; each must still get exactly its own TF-IDF probabilities.
    model = trained[lang]
    texts = [
        "hi",
        "my eyes are yellow and I feel sick",
        "刚输完Tysabri，皮肤有点发黄",
        "",
        "x" * 500,
    ]
    for text in texts:
        intent_scores, net_scores = model.scores(text)
        for classifier, scores in (
            (model.classifier, intent_scores),
            (model.safety_net, net_scores),
        ):
            features = classifier.features.transform([with_han_bigrams(text)])
            reference = classifier.model.predict_proba(features)[0]
            assert np.allclose(classifier.probabilities_from(scores), reference, atol=1e-9)


def test_our_ngrams_are_scikit_learns():
    """Scoring reads n-grams without scikit-learn (app/nlu/ngrams.py): the same ones as its
    analyzers, on every labelled message and some edge cases."""
    import json

    from sklearn.feature_extraction.text import TfidfVectorizer

    from app.nlu.ngrams import char_wb_ngrams, word_ngrams
    from app.nlu.training_data import LABELLED_DIR

    texts = ["", "a", "ab", " x  y\t\tz ", "x" * 12, "İstanbul", "a\u00a0b", "刚输完Tysabri"]
    for path in sorted(LABELLED_DIR.glob("*/*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    texts = [with_han_bigrams(text) for text in texts]
    words = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()
    assert [word_ngrams((1, 2))(t) for t in texts] == [words(t) for t in texts]
    for ngrams in ((2, 5), (1, 4), (3, 6)):
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams).build_analyzer()
        assert [char_wb_ngrams(ngrams)(t) for t in texts] == [chars(t) for t in texts]
