"""briefing.topics, pure: the score a topic gives an article, and which articles are one story.

Hand-built Article values and hand-built topics; no config file, no seeds, no database.
(tests/test_topics.py checks the shipped topic against the shipped seeds.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from briefing.models import Article
from briefing.topics import (
    DEK_WEIGHT,
    TITLE_WEIGHT,
    TopicRules,
    group_stories,
    match_all,
    order_stories,
    stories_by_topic,
)

T0 = datetime(2026, 11, 20, tzinfo=UTC)


@dataclass(frozen=True)
class _Topic:
    """What TopicRules reads from a config Topic (briefing.config is not imported here)."""

    slug: str
    terms: Mapping[str, float]
    require: tuple[tuple[str, ...], ...] = ()
    exclude: tuple[str, ...] = ()
    min_score: float = 0.0
    name: str = "A topic"
    max_stories: int = 10
    description: str = field(default="")


def rules(
    terms: Mapping[str, float],
    *,
    slug: str = "t",
    require: tuple[tuple[str, ...], ...] = (),
    exclude: tuple[str, ...] = (),
    min_score: float = 0.0,
) -> TopicRules:
    return TopicRules(cast(Any, _Topic(slug, dict(terms), require, exclude, min_score)))


def art(
    title: str,
    body: str = "",
    *,
    id: str | None = None,
    dek: str | None = None,
    summary: str = "",
    publisher: str | None = "Wire",
    source: str = "feed:test",
    url: str | None = "https://example.org/a",
    published: date | datetime | None = None,
    ai: bool = False,
    first_seen: datetime | None = T0,
) -> Article:
    return Article(
        id=id or title[:16],
        source_kind="feed",
        source=source,
        title=title,
        body=body,
        dek=dek,
        summary=summary,
        publisher=publisher,
        url=url,
        published=published,
        ai_generated=ai,
        first_seen=first_seen,
    )


# --- scoring --------------------------------------------------------------------------------


def test_title_standfirst_and_body_add_up_with_their_weights() -> None:
    r = rules({"missile": 2.0})
    m = r.match(art("Missile test", "A missile, then a missile, then a missile.", dek="Missile"))
    expected = 2.0 * (TITLE_WEIGHT + DEK_WEIGHT + math.log2(1 + 3))
    assert m.score == round(expected, 2) == 13.0
    assert m.terms == {"missile": 5}  # 1 in the title, 1 in the standfirst, 3 in the body
    assert (m.slug, m.assigned) == ("t", True)


def test_the_title_counts_once_however_often_the_term_is_in_it() -> None:
    r = rules({"missile": 1.0})
    once, twice = r.match(art("Missile")), r.match(art("Missile after missile"))
    assert once.score == twice.score == TITLE_WEIGHT
    assert twice.terms == {"missile": 2}


def test_the_body_has_diminishing_returns() -> None:
    r = rules({"missile": 1.0})
    scores = [r.match(art("Nothing here", "missile " * n)).score for n in (1, 3, 7, 15)]
    assert scores == [1.0, 2.0, 3.0, 4.0]  # log2(1 + n): doubling the text adds one


def test_a_summary_is_not_a_standfirst() -> None:
    r = rules({"missile": 1.0})
    assert r.match(art("Nothing here", summary="missile")).score == 0.0
    assert r.match(art("Nothing here", dek="missile")).score == DEK_WEIGHT


def test_terms_add_their_weighted_scores_and_unmatched_terms_are_not_listed() -> None:
    r = rules({"japan": 2.0, "korea": 0.5, "canada": 9.0})
    m = r.match(art("Japan", "Korea"))
    assert m.score == 2.0 * TITLE_WEIGHT + 0.5 * 1.0
    assert m.terms == {"japan": 1, "korea": 1}


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("missile", "MISSILES", True),  # case-insensitive, plural
        ("japan", "Japan's navy", True),  # possessive
        ("japan", "Japan’s navy", True),  # with a typographic apostrophe
        ("japan*", "Japanese ships", True),  # a prefix
        ("japan", "Japanese ships", False),  # not a prefix without the star
        ("north korea", "North-Korea and north   korea", True),  # hyphen or any spaces
        ("missile", "antimissile", False),  # whole words only
        ("missile", "anti-missile", False),  # nor the end of a hyphenated word
        ("missile", "missileer", False),
    ],
)
def test_how_a_term_matches(term: str, text: str, found: bool) -> None:
    m = rules({term: 1.0}).match(art("Nothing here", text))
    assert (term in m.terms) is found


def test_a_phrase_in_the_body_counts_each_time() -> None:
    m = rules({"north korea": 1.0}).match(art("Nothing here", "North-Korea and north   korea"))
    assert m.terms == {"north korea": 2}


def test_an_exclude_term_keeps_it_out_whatever_the_score() -> None:
    r = rules({"missile": 5.0}, exclude=("bike lane*",), min_score=1)
    m = r.match(art("Missile", "Near the new bike lanes."))
    assert not m.assigned
    assert m.reason == "excluded by 'bike lane*'"
    assert m.score == 5.0 * (TITLE_WEIGHT)  # still reported, to explain the decision


def test_an_exclude_term_in_the_standfirst_counts_too() -> None:
    r = rules({"missile": 5.0}, exclude=("parade",))
    assert not r.match(art("Missile", dek="At the parade")).assigned


def test_every_require_group_must_match() -> None:
    r = rules(
        {"missile": 5.0},
        require=(("japan*", "tokyo"), ("north korea", "pyongyang", "dprk", "kim")),
    )
    assert r.match(art("Tokyo watches a Pyongyang missile")).assigned
    m = r.match(art("Tokyo watches a missile"))
    assert not m.assigned
    assert m.reason == "no required term (north korea / pyongyang / dprk)"  # the first three


def test_exclusion_is_reported_before_a_missing_required_term() -> None:
    r = rules({"missile": 1.0}, require=(("japan",),), exclude=("parade",))
    assert r.match(art("Missile parade")).reason == "excluded by 'parade'"


def test_the_minimum_score_is_inclusive() -> None:
    at = rules({"missile": 1.0}, min_score=TITLE_WEIGHT).match(art("Missile"))
    assert at.assigned and at.reason == f"score {TITLE_WEIGHT} >= {TITLE_WEIGHT}"
    below = rules({"missile": 1.0}, min_score=3.01).match(art("Missile"))
    assert not below.assigned and below.reason == f"score {TITLE_WEIGHT} < 3.01"


def test_the_score_is_rounded_to_two_places() -> None:
    m = rules({"missile": 1.0}).match(art("Nothing here", "missile"))
    assert m.score == 1.0
    m = rules({"missile": 1.0}).match(art("Nothing here", "missile missile"))
    assert m.score == round(math.log2(3), 2) == 1.58


def test_match_all_answers_for_every_topic_in_order() -> None:
    rs = [rules({"japan": 1.0}, slug="a"), rules({"korea": 1.0}, slug="b", min_score=99)]
    assert [(m.slug, m.assigned) for m in match_all(art("Japan and Korea"), rs)] == [
        ("a", True),
        ("b", False),
    ]


# --- same story ---------------------------------------------------------------------------

PACT_1 = art(
    "Pyongyang condemns Tokyo Ottawa equipment pact",
    "Pyongyang condemned the equipment transfer pact signed by Tokyo and Ottawa, calling it "
    "a red line. Rodong Sinmun published the statement on Monday.",
    id="pact1",
    publisher="Wire A",
    published=date(2026, 1, 12),
    first_seen=datetime(2026, 1, 12, tzinfo=UTC),
)
PACT_2 = art(
    "Tokyo Ottawa equipment pact condemned by Pyongyang",
    "Rodong Sinmun said the Tokyo Ottawa equipment transfer pact crossed a red line, "
    "Pyongyang condemned it on Monday.",
    id="pact2",
    publisher="Wire B",
    published=date(2026, 1, 13),
    first_seen=datetime(2026, 1, 11, tzinfo=UTC),  # seen first: this one keys the story
)
BUDGET = art(
    "Cabinet approves record budget for warships",
    "The cabinet approved record spending on warships, submarines and radar installations "
    "across southern islands.",
    id="budget",
    publisher="Wire C",
    published=date(2026, 2, 1),
)


def test_articles_reporting_the_same_story_become_one() -> None:
    stories = group_stories("t", [PACT_1, BUDGET, PACT_2], {}, threshold=0.45)
    assert sorted(sorted(a.id for a in s.articles) for s in stories) == [
        ["budget"],
        ["pact1", "pact2"],
    ]
    assert all(s.topic == "t" for s in stories)


def test_the_story_key_is_the_article_seen_first_and_the_score_its_best() -> None:
    (story,) = group_stories("t", [PACT_1, PACT_2], {"pact1": 7.5, "pact2": 4.0}, threshold=0.45)
    assert story.key == "pact2"
    assert story.score == 7.5


def test_an_article_without_first_seen_does_not_key_the_story() -> None:
    unseen = art(PACT_1.title, PACT_1.body, id="aaa", first_seen=None)
    (story,) = group_stories("t", [unseen, PACT_1], {}, threshold=0.45)
    assert story.key == "pact1"


def test_a_threshold_of_one_point_one_keeps_every_article_apart() -> None:
    assert len(group_stories("t", [PACT_1, PACT_2], {}, threshold=1.1)) == 2


def test_no_articles_no_stories() -> None:
    assert group_stories("t", [], {}, threshold=0.45) == []


@pytest.mark.parametrize(
    ("worse", "why"),
    [
        ({"ai": True}, "AI-generated"),
        ({"url": None}, "no link"),
        ({"published": None}, "no date"),
        ({"body": "Short."}, "less text"),
    ],
)
def test_the_lead_source_is_human_linked_dated_and_longest(worse: dict[str, Any], why: str) -> None:
    base: dict[str, Any] = {
        "body": PACT_1.body + " More words to be longer than the other.",
        "published": date(2026, 1, 12),
    }
    good = art(PACT_1.title, **{**base, "id": "zz-good"})
    bad = art(PACT_1.title, **{**base, "id": "aa-bad", **worse})
    (story,) = group_stories("t", [bad, good], {}, threshold=0.3)
    assert story.lead.id == "zz-good", why
    assert [a.id for a in story.articles] == ["zz-good", "aa-bad"]


def test_grouping_is_single_link() -> None:
    """a ~ b and b ~ c put a and c in one story although a and c share no word."""
    a = art("Albatross Bramble", id="a")
    b = art("Bramble Cobalt", id="b")
    c = art("Cobalt Dahlia", id="c")
    assert len(group_stories("t", [a, c], {}, threshold=0.2)) == 2
    (story,) = group_stories("t", [a, b, c], {}, threshold=0.2)
    assert {x.id for x in story.articles} == {"a", "b", "c"}


def test_stopwords_and_short_words_do_not_make_a_story() -> None:
    a = art("The and of it is on by", "was were had", id="a")
    b = art("The and of it is on by", "was were had", id="b")
    assert len(group_stories("t", [a, b], {}, threshold=0.1)) == 2  # nothing left to compare


# --- order and placement --------------------------------------------------------------------


def test_order_by_sources_counts_distinct_publishers() -> None:
    two_same = group_stories(
        "t",
        [
            art(PACT_1.title, PACT_1.body, id="p1", publisher="Same"),
            art(PACT_1.title, PACT_1.body, id="p2", publisher="Same"),
        ],
        {},
        threshold=0.45,
    )
    two_different = group_stories(
        "t",
        [
            art(BUDGET.title, BUDGET.body, id="b1", publisher="One"),
            art(BUDGET.title, BUDGET.body, id="b2", publisher=None, source="feed:other"),
        ],
        {},
        threshold=0.45,
    )
    ordered = order_stories([*two_same, *two_different], ("sources",))
    assert [s.key for s in ordered] == ["b1", "p1"]  # a missing publisher counts by source


def test_order_by_score_highest_first_ties_by_key() -> None:
    stories = group_stories(
        "t",
        [art("Alpha", id="a"), art("Bravo", id="b"), art("Charlie", id="c")],
        {"a": 1.0, "b": 5.0, "c": 5.0},
        threshold=0.99,
    )
    assert [s.key for s in order_stories(stories, ("score",))] == ["b", "c", "a"]


def test_a_later_order_key_breaks_ties_of_an_earlier_one() -> None:
    stories = group_stories(
        "t",
        [
            art("Alpha", id="a", published=date(2026, 1, 1)),
            art("Bravo", id="b", published=date(2026, 3, 1)),
        ],
        {"a": 2.0, "b": 2.0},
        threshold=0.99,
    )
    assert [s.key for s in order_stories(stories, ("score", "newest"))] == ["b", "a"]
    assert [s.key for s in order_stories(stories, ("score", "oldest"))] == ["a", "b"]


def test_each_article_goes_to_its_best_topic_only() -> None:
    rs = [
        rules({"japan": 1.0}, slug="japan", min_score=1),
        rules({"korea": 2.0}, slug="korea", min_score=1),
    ]
    both = art("Japan and Korea", id="both")
    japan = art("Japan alone", id="japan-only")
    neither = art("Canada", id="neither")
    placed = stories_by_topic([both, japan, neither], rs, threshold=0.99, order=("score",))
    assert set(placed) == {"japan", "korea"}
    assert [s.key for s in placed["japan"]] == ["japan-only"]
    assert [(s.key, s.score) for s in placed["korea"]] == [("both", 2.0 * TITLE_WEIGHT)]


def test_every_topic_is_in_the_answer_even_with_no_story() -> None:
    rs = [rules({"japan": 1.0}, slug="japan", min_score=1), rules({"korea": 1.0}, slug="korea")]
    placed = stories_by_topic([art("Japan", id="j")], rs, threshold=0.5, order=())
    assert {slug: [s.key for s in stories] for slug, stories in placed.items()} == {
        "japan": ["j"],
        "korea": [],
    }


def test_with_a_minimum_of_zero_an_article_matching_no_term_is_assigned() -> None:
    """What the code does today: 0 >= 0 (a config topic's min_score defaults to 4)."""
    m = rules({"japan": 1.0}, min_score=0).match(art("Canada"))
    assert (m.assigned, m.score, m.terms) == (True, 0.0, {})
