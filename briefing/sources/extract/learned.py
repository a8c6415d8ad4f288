"""The learned weights of the text-dump extractor, and scoring with them.

``scripts/train_extract.py`` fits one logistic model per decision (is this line body
text, is this line the headline, this byline the author, this date the publication
date, this name the publisher) from pages with ground truth, and writes them to
``weights.json`` beside this module. Here a model is read back and applied in plain
Python: a candidate's features (name -> value) give a log-odds, the sum of each
feature's contribution ``weight * (value - mean)`` plus the bias, so the strongest
contributions explain the choice ("+2.1 a byline or date right under it").
Features absent from a candidate count as 0.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

WEIGHTS_FILE = "weights.json"


@dataclass(frozen=True)
class Linear:
    """A logistic model: ``logit = bias + sum(weight * (x - mean))``."""

    bias: float
    weights: dict[str, float]
    means: dict[str, float]
    threshold: float = 0.5  # the probability a choice must reach to be kept

    def logit(self, features: dict[str, float]) -> float:
        # bias - sum(w * mean) once, then only the features present (most are absent or 0)
        total = self._offset
        weights = self.weights
        for name, value in features.items():
            w = weights.get(name)
            if w is not None:
                total += w * value
        return total

    @property
    def _offset(self) -> float:
        cached: float | None = self.__dict__.get("_offset_cache")
        if cached is None:
            cached = self.bias - sum(w * self.means.get(n, 0.0) for n, w in self.weights.items())
            object.__setattr__(self, "_offset_cache", cached)
        return cached

    def contributions(self, features: dict[str, float]) -> list[tuple[str, float]]:
        """Each feature's share of the log-odds, strongest first (zero shares left out)."""
        out = []
        for name, w in self.weights.items():
            c = w * (features.get(name, 0.0) - self.means.get(name, 0.0))
            if abs(c) >= 0.05:
                out.append((name, c))
        return sorted(out, key=lambda p: -abs(p[1]))

    def probability(self, features: dict[str, float]) -> float:
        return sigmoid(self.logit(features))

    def to_json(self) -> dict[str, Any]:
        return {
            "bias": round(self.bias, 5),
            "threshold": round(self.threshold, 4),
            "weights": {k: round(v, 5) for k, v in self.weights.items()},
            "means": {k: round(v, 5) for k, v in self.means.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Linear:
        return cls(
            bias=float(data["bias"]),
            weights={str(k): float(v) for k, v in data["weights"].items()},
            means={str(k): float(v) for k, v in data.get("means", {}).items()},
            threshold=float(data.get("threshold", 0.5)),
        )


def sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


# A model set in training replaces the shipped one (scripts/train_extract.py trains the
# decisions in order, each on what the ones before it chose).
_override: dict[str, Linear] = {}


@cache
def _shipped() -> dict[str, Linear]:
    text = resources.files(__package__).joinpath(WEIGHTS_FILE).read_text("utf-8")
    data = json.loads(text)
    return {name: Linear.from_json(m) for name, m in data["models"].items()}


def model(name: str) -> Linear | None:
    """The model for one decision ("body", "title", "author", "date", "publisher"), or None
    when none is shipped (the extractor then falls back on its rules alone)."""
    if name in _override:
        return _override[name]
    return _shipped().get(name)


def set_model(name: str, m: Linear | None) -> None:
    """For training: use ``m`` for ``name`` in this process (None: the shipped one)."""
    if m is None:
        _override.pop(name, None)
    else:
        _override[name] = m
