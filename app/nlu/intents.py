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

        # For one message, scikit-learn's sparse-matrix machinery costs ~1.5 ms; scoring the
        # same features from the fitted vocabularies directly gives the same probabilities
        # (tested) in a fraction of that.
        self._parts = []
        offset = 0
        for _, vectorizer in self.features.transformer_list:
            self._parts.append(
                (vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset)
            )
            offset += len(vectorizer.vocabulary_)
        self._coef = np.ascontiguousarray(self.model.coef_.T)
        self._intercept = self.model.intercept_

    def _scores(self, text: str) -> np.ndarray:
        indices: list[int] = []
        weights: list[float] = []
        for analyzer, vocabulary, idf, offset in self._parts:
            counts: dict[int, int] = {}
            for term in analyzer(text):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            part = np.fromiter(counts, dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * idf[part]
            values /= np.linalg.norm(values)
            indices.extend((part + offset).tolist())
            weights.extend(values.tolist())
        if not indices:
            return self._intercept.copy()
        return np.asarray(weights) @ self._coef[indices] + self._intercept

    def probabilities(self, text: str) -> np.ndarray:
        """Class probabilities as SGDClassifier.predict_proba computes them (one-vs-rest)."""
        scores = self._scores(text)
        probabilities = 1.0 / (1.0 + np.exp(-scores))
        if len(self.labels) == 2:  # binary models score only the second class
            return np.array([1.0 - probabilities[0], probabilities[0]])
        total = probabilities.sum()
        if total == 0:
            return np.full(len(self.labels), 1.0 / len(self.labels))
        return probabilities / total

    def predict(self, text: str) -> tuple[IntentPrediction, list[IntentPrediction]]:
        """Best intent (or `nlu_fallback`) and the top of the ranking."""
        row = self.probabilities(text)
        order = np.argsort(row)[::-1][:RANKING_LENGTH]
        ranking = [IntentPrediction(self.labels[i], float(row[i])) for i in order]
        best = ranking[0]
        if best.confidence < self.threshold:
            best = IntentPrediction(FALLBACK_INTENT, 1.0 - best.confidence)
        return best, ranking
