"""Intent classification: TF-IDF word and character n-grams with logistic regression."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion

from app.nlu.models import IntentPrediction

# In the spirit of Rasa's FallbackClassifier: below this confidence the intent is
# `nlu_fallback`, so the dialogue asks again instead of guessing.
FALLBACK_THRESHOLD = 0.3
FALLBACK_INTENT = "nlu_fallback"
RANKING_LENGTH = 5


class IntentClassifier:
    """Trained at start-up from the Rasa intent examples (~1,000 lines in ~0.3 s)."""

    def __init__(self, examples: dict[str, list[str]], *, threshold: float = FALLBACK_THRESHOLD):
        texts = [text for examples_ in examples.values() for text in examples_]
        labels = [name for name, examples_ in examples.items() for _ in examples_]
        if len(set(labels)) < 2:
            raise ValueError("intent classifier needs examples of at least two intents")
        self.threshold = threshold
        self.features = FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True
                    ),
                ),
            ]
        )
        matrix = self.features.fit_transform(texts)
        # SGD with log loss: probabilities like logistic regression, trained in ~0.2 s
        # where lbfgs needed ~2.5 s on the same data, at equal cross-validated accuracy.
        self.model = SGDClassifier(
            loss="log_loss", alpha=1e-4, max_iter=30, tol=None, random_state=0
        )
        self.model.fit(matrix, labels)
        self.labels = [str(label) for label in self.model.classes_]

    def predict(self, text: str) -> tuple[IntentPrediction, list[IntentPrediction]]:
        """Best intent (or `nlu_fallback`) and the top of the ranking."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: list[str]) -> list[tuple[IntentPrediction, list[IntentPrediction]]]:
        probabilities = self.model.predict_proba(self.features.transform(texts))
        results = []
        for row in probabilities:
            order = np.argsort(row)[::-1][:RANKING_LENGTH]
            ranking = [IntentPrediction(self.labels[i], float(row[i])) for i in order]
            best = ranking[0]
            if best.confidence < self.threshold:
                best = IntentPrediction(FALLBACK_INTENT, 1.0 - best.confidence)
            results.append((best, ranking))
        return results
