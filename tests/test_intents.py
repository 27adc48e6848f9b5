"""Intent classifier: trained from nlu_data, same probabilities as scikit-learn, fallback."""

from __future__ import annotations

import numpy as np
import pytest

from app.nlu.classifier import with_han_bigrams
from app.nlu.intents import FALLBACK_INTENT, IntentClassifier


def test_fast_scoring_matches_scikit_learn(triager):
    classifier = triager.nlu.models["en"].classifier
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
def test_one_reading_scores_both_models_as_scikit_learn_does(triager, lang):
    # The intent classifier and the safety net are scored from one joint reading of the
    # message; each must still get exactly its own TF-IDF probabilities.
    model = triager.nlu.models[lang]
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
