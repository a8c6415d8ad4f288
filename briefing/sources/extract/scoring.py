"""Scoring candidates: a sum of named feature weights, kept so the result can say why.

Each candidate collects ``(feature, weight)`` pairs; its score is their sum, and the
strongest of them are its explanation ("+3.0 right above the byline"). The confidence
of a choice grows with its lead over the runner-up and with its own score, through a
logistic curve, so a clear winner is near 1 and a coin toss near 0.5 or below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from briefing.sources.extract.learned import Linear
from briefing.sources.extract.model import Candidate, FieldChoice, FieldName, nothing


@dataclass
class Scored:
    value: str | date | datetime | None
    source: str
    line: int | None = None  # the 1-based line of the dump it came from
    parts: list[tuple[str, float]] = field(default_factory=list)
    refused: str | None = None  # a rule that rules it out, whatever it scores
    features: dict[str, float] = field(default_factory=dict)  # for a learned model
    logit: float | None = None  # the learned model's log-odds, once scored

    def add(self, feature: str, weight: float) -> None:
        if weight:
            self.parts.append((feature, weight))

    def set(self, feature: str, value: float | bool) -> None:
        """A feature's value, weighed by the learned model (``choose_learned``)."""
        if value:
            self.features[feature] = float(value)

    @property
    def score(self) -> float:
        if self.logit is not None:
            return self.logit
        return sum(w for _, w in self.parts)

    def candidate(self) -> Candidate:
        strongest = sorted(self.parts, key=lambda p: -abs(p[1]))
        why = tuple(f"{w:+.1f} {name}" for name, w in strongest[:6])
        return Candidate(self.value, self.score, self.source, why, self.line)


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def choose(
    name: FieldName,
    candidates: list[Scored],
    *,
    minimum: float,
    rule: str,
    same: object = None,
    lead_scale: float = 2.0,
    level_scale: float = 3.0,
) -> FieldChoice:
    """The best candidate above ``minimum``; the runner-up is the best with another value."""
    refused = tuple(
        f"{_show(c.value)!r} ({c.source}): {c.refused}" for c in candidates if c.refused
    )
    live = sorted((c for c in candidates if not c.refused), key=lambda c: -c.score)
    if not live or live[0].score < minimum:
        why = (
            f"no candidate reached the minimum score {minimum:g}"
            + (f" (best {_show(live[0].value)!r} at {live[0].score:.1f})" if live else "")
            if candidates
            else "the page shows no candidate"
        )
        return nothing(name, why, refused)
    best = live[0]
    key = _key(best.value)
    runner = next((c for c in live[1:] if _key(c.value) != key), None)
    lead = best.score - (runner.score if runner else minimum)
    confidence = logistic(lead / lead_scale) * logistic((best.score - minimum) / level_scale + 1.0)
    confidence = min(0.99, 2 * confidence - confidence**2)  # both a lead and a level: near 1
    return FieldChoice(
        name,
        best.value,
        round(confidence, 3),
        rule,
        chosen=best.candidate(),
        runner_up=runner.candidate() if runner else None,
        refused=refused,
    )


def choose_learned(
    name: FieldName,
    candidates: list[Scored],
    model: Linear,
    *,
    rule: str,
    abstain: bool,
) -> FieldChoice:
    """The candidate the learned ranking model likes best, with its probability.

    Each candidate's score is the model's log-odds, explained by its features'
    contributions. Candidates with the same value pool their probability (the date in the
    byline and again in the footer). With ``abstain`` the model may also pick nothing (a
    score of 0 stands for "none of these"), and a value whose probability is under the
    model's threshold is not kept."""
    refused = tuple(
        f"{_show(c.value)!r} ({c.source}): {c.refused}" for c in candidates if c.refused
    )
    live = [c for c in candidates if not c.refused]
    for c in live:
        c.logit = model.logit(c.features)
    scores = [c.score for c in live]
    if not live:
        return nothing(name, "the page shows no candidate" if not candidates else
                       "every candidate was refused by a rule", refused)  # fmt: skip
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    none = math.exp(-top) if abstain else 0.0
    total = sum(exps) + none
    pooled: dict[object, float] = {}
    for c, e in zip(live, exps, strict=True):
        pooled[_key(c.value)] = pooled.get(_key(c.value), 0.0) + e / total
    order = sorted(range(len(live)), key=lambda i: -scores[i])
    best = live[order[0]]
    p = pooled[_key(best.value)]
    runner = next((live[i] for i in order[1:] if _key(live[i].value) != _key(best.value)), None)
    for shown in (best, runner):
        if shown is not None:  # the explanation: each feature's share of the log-odds
            shown.parts = model.contributions(shown.features)
    if abstain and p < model.threshold:
        return FieldChoice(
            name,
            None,
            0.0,
            f"no candidate is likely enough (best {_show(best.value)!r} at {p:.2f}, "
            f"under {model.threshold:.2f})",
            runner_up=best.candidate(),
            refused=refused,
        )
    return FieldChoice(
        name,
        best.value,
        round(min(0.99, p), 3),
        rule,
        chosen=best.candidate(),
        runner_up=runner.candidate() if runner else None,
        refused=refused,
    )


def _key(value: object) -> object:
    if isinstance(value, str):
        return " ".join(value.lower().split())
    if isinstance(value, datetime):
        return value.date()
    return value


def _show(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
