"""Topics and stories, pure: which articles belong to which topic, and which report the
same story.

Topic assignment is explainable: every match says which terms were found and the score
they add up to. A term found in the title counts most, then the standfirst, then the
body (with diminishing returns, so a long article does not win by length alone).

Within a topic, articles whose words are close enough (TF-IDF cosine over title,
standfirst and opening paragraphs) become one story with several sources.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from briefing.config import Topic
from briefing.models import Article, Story, TopicMatch

TITLE_WEIGHT = 3.0
DEK_WEIGHT = 1.5
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "as",
        "which",
        "who",
        "whom",
        "what",
        "would",
        "could",
        "also",
        "said",
        "says",
        "say",
        "new",
        "one",
        "two",
        "first",
        "last",
        "week",
        "year",
    ]
)


@dataclass(frozen=True)
class _Term:
    text: str
    weight: float
    pattern: re.Pattern[str]


def _compile(term: str) -> re.Pattern[str]:
    """A term as a case-insensitive whole-word pattern; "x*" is a prefix, plurals match."""
    prefix = term.endswith("*")
    words = term.rstrip("*").strip().split()
    body = r"[\s\-]+".join(re.escape(w).replace("'", "['’]").replace("’", "['’]") for w in words)
    tail = r"\w*" if prefix else r"(?:s|es|'s|’s)?"
    return re.compile(rf"(?<![\w-]){body}{tail}(?![\w])", re.I)


class TopicRules:
    """A topic from the config, compiled once."""

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self.terms = [_Term(t, w, _compile(t)) for t, w in topic.terms.items()]
        self.require = [[_compile(t) for t in group] for group in topic.require]
        self.require_labels = [" / ".join(group[:3]) for group in topic.require]
        self.exclude = [(t, _compile(t)) for t in topic.exclude]

    @property
    def slug(self) -> str:
        return self.topic.slug

    def match(self, article: Article) -> TopicMatch:
        # only a real standfirst counts as one: a feed's summary repeats the body's opening
        title, dek = article.title, article.dek or ""
        body = article.body
        found: dict[str, int] = {}
        score = 0.0
        for term in self.terms:
            in_title = len(term.pattern.findall(title))
            in_dek = len(term.pattern.findall(dek))
            in_body = len(term.pattern.findall(body))
            total = in_title + in_dek + in_body
            if not total:
                continue
            found[term.text] = total
            score += term.weight * (
                TITLE_WEIGHT * min(in_title, 1)
                + DEK_WEIGHT * min(in_dek, 1)
                + math.log2(1 + in_body)
            )
        score = round(score, 2)
        text = f"{title}\n{dek}\n{body}"
        for label, pattern in self.exclude:
            if pattern.search(text):
                return TopicMatch(self.slug, score, found, False, f"excluded by {label!r}")
        for label, group in zip(self.require_labels, self.require, strict=True):
            if not any(p.search(text) for p in group):
                return TopicMatch(self.slug, score, found, False, f"no required term ({label})")
        if score < self.topic.min_score:
            return TopicMatch(
                self.slug, score, found, False, f"score {score} < {self.topic.min_score}"
            )
        return TopicMatch(self.slug, score, found, True, f"score {score} >= {self.topic.min_score}")


def compile_topics(topics: Iterable[Topic]) -> list[TopicRules]:
    return [TopicRules(t) for t in topics]


def match_all(article: Article, rules: Sequence[TopicRules]) -> list[TopicMatch]:
    return [r.match(article) for r in rules]


# --- same story --------------------------------------------------------------------------


def _tokens(article: Article) -> list[str]:
    opening = " ".join(article.body.split()[:150])
    text = f"{article.title} {article.title} {article.dek or article.summary} {opening}"
    return [
        w
        for w in (m.group(0).lower() for m in _WORD.finditer(text))
        if w not in STOPWORDS and len(w) > 2
    ]


class _Vectors:
    def __init__(self, articles: Sequence[Article]) -> None:
        self.counts = [Counter(_tokens(a)) for a in articles]
        df: Counter[str] = Counter()
        for c in self.counts:
            df.update(c.keys())
        n = len(articles)
        self.idf = {w: math.log((1 + n) / (1 + d)) + 1 for w, d in df.items()}

    @cached_property
    def vectors(self) -> list[dict[str, float]]:
        out = []
        for c in self.counts:
            v = {w: (1 + math.log(k)) * self.idf[w] for w, k in c.items()}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            out.append({w: x / norm for w, x in v.items()})
        return out

    def cosine(self, i: int, j: int) -> float:
        a, b = self.vectors[i], self.vectors[j]
        if len(a) > len(b):
            a, b = b, a
        return sum(x * b.get(w, 0.0) for w, x in a.items())


def _lead_rank(a: Article) -> tuple[int, int, int, float]:
    """The source to lead with: a human-written one, with a link, a date, the most text."""
    return (int(a.ai_generated), int(a.url is None), int(a.published is None), -float(a.word_count))


def group_stories(
    topic: str,
    articles: Sequence[Article],
    scores: dict[str, float],
    threshold: float,
    corpus: Sequence[Article] = (),
) -> list[Story]:
    """Articles of one topic grouped into stories (single-link at ``threshold``)."""
    if not articles:
        return []
    pool = list(articles) + [c for c in corpus if c.id not in {a.id for a in articles}]
    vec = _Vectors(pool)
    parent = list(range(len(articles)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(articles)):
        for j in range(i + 1, len(articles)):
            if find(i) != find(j) and vec.cosine(i, j) >= threshold:
                parent[find(j)] = find(i)
    clusters: dict[int, list[Article]] = {}
    for i, a in enumerate(articles):
        clusters.setdefault(find(i), []).append(a)
    stories = []
    for members in clusters.values():
        first = min(members, key=lambda a: (a.first_seen or datetime.max.replace(tzinfo=UTC), a.id))
        ordered = sorted(members, key=_lead_rank)
        stories.append(
            Story(
                key=first.id,
                topic=topic,
                articles=tuple(ordered),
                score=max(scores.get(a.id, 0.0) for a in members),
            )
        )
    return stories


def order_stories(stories: Sequence[Story], order: Sequence[str]) -> list[Story]:
    """Sort by the configured keys: sources (most first), newest, oldest, score."""

    def key(s: Story) -> tuple[float, ...]:
        parts: list[float] = []
        for k in order:
            when = s.newest.timestamp() if s.newest else None  # undated: last either way
            if k == "sources":
                parts.append(-len({a.publisher or a.source for a in s.articles}))
            elif k == "newest":
                parts.append(-when if when is not None else float("inf"))
            elif k == "oldest":
                parts.append(when if when is not None else float("inf"))
            elif k == "score":
                parts.append(-s.score)
        return tuple(parts)

    return sorted(stories, key=lambda s: (*key(s), s.key))


def stories_by_topic(
    articles: Sequence[Article],
    rules: Sequence[TopicRules],
    *,
    threshold: float,
    order: Sequence[str],
) -> dict[str, list[Story]]:
    """Each article under its best-scoring assigned topic, grouped into ordered stories."""
    placed: dict[str, list[Article]] = {r.slug: [] for r in rules}
    scores: dict[str, float] = {}
    for a in articles:
        matches = [m for m in match_all(a, rules) if m.assigned]
        if not matches:
            continue
        best = max(matches, key=lambda m: m.score)
        placed[best.slug].append(a)
        scores[a.id] = best.score
    return {
        slug: order_stories(group_stories(slug, items, scores, threshold, corpus=articles), order)
        for slug, items in placed.items()
    }
