"""Topic assignment (explainable), same-story grouping and story order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from briefing.config import load_settings
from briefing.models import Article
from briefing.sources.seed import SeedParser
from briefing.topics import (
    compile_topics,
    group_stories,
    match_all,
    order_stories,
    stories_by_topic,
)

REPO = Path(__file__).parent.parent
SETTINGS = load_settings(REPO / "briefing.toml", env={})
RULES = compile_topics(SETTINGS.topics)
SLUG = "japan-defense-dprk"


def art(
    title: str,
    body: str,
    *,
    id: str | None = None,
    publisher: str = "Wire",
    published: date | None = None,
    ai: bool = False,
    dek: str | None = None,
) -> Article:
    return Article(
        id=id or title[:12],
        source_kind="feed",
        source="feed:test",
        title=title,
        body=body,
        summary=dek or body[:100],
        dek=dek,
        publisher=publisher,
        published=published,
        ai_generated=ai,
        first_seen=datetime(2026, 11, 20, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def seeds() -> list[Article]:
    parser = SeedParser()
    return [parser.parse_file(p) for p in sorted((REPO / "seeds").glob("*.txt"))]


def test_both_seeds_belong_to_the_first_topic(seeds: list[Article]) -> None:
    assert SETTINGS.topics[0].name == "Japan defense and DPRK reaction"
    for a in seeds:
        (m,) = match_all(a, RULES)
        assert m.assigned, m.reason
        assert m.score >= SETTINGS.topics[0].min_score
        assert {"japan", "north korea"} <= set(m.terms)  # explainable: the terms that matched
        assert m.terms["north korea"] >= 1


BIKES = art(
    "City council approves protected bike lanes on Elm Street",
    "The council voted 7-2 to build protected bike lanes. Cyclists welcomed the defense of safer streets. "
    "The plan removes 180 parking spaces along a 1.8-mile stretch.",
)
JAPAN_ONLY = art(
    "Japan raises its defense budget again",
    "Japan's cabinet approved a record defense budget with money for missiles and ships. "
    "The Self-Defense Forces will grow. Tokyo says the region is more dangerous.",
)
KOREA_ONLY = art(
    "North Korea launches a missile into the sea",
    "North Korea fired a ballistic missile on Tuesday, Pyongyang's state media said. "
    "The launch was the third this month.",
)
BIKES_IN_TOKYO = art(
    "Tokyo opens bike lanes as North Korea watchers meet",
    "Tokyo opened new bike lanes near the venue where experts on North Korea and Japan's "
    "defense met to discuss missile threats and the military balance.",
)


@pytest.mark.parametrize(
    "article, reason",
    [
        (BIKES, "excluded by 'bike lane*'"),
        (JAPAN_ONLY, "no required term"),
        (KOREA_ONLY, "no required term"),
        (BIKES_IN_TOKYO, "excluded by"),
    ],
)
def test_counter_examples_stay_out(article: Article, reason: str) -> None:
    (m,) = match_all(article, RULES)
    assert not m.assigned
    assert reason in m.reason


def test_low_score_is_not_enough() -> None:
    thin = art("A note", "Japan and North Korea were mentioned once.")
    (m,) = match_all(thin, RULES)
    assert not m.assigned and "score" in m.reason and m.score < SETTINGS.topics[0].min_score


def test_title_counts_more_than_body() -> None:
    in_title = art(
        "North Korea condemns Japan missile plan", "Officials spoke. " * 5 + "Japan. North Korea."
    )
    in_body = art("Officials speak", "Officials spoke. " * 5 + "Japan. North Korea. missile.")
    assert match_all(in_title, RULES)[0].score > match_all(in_body, RULES)[0].score


SAME_1 = art(
    "North Korea condemns Japan-Canada defense pact",
    "North Korea on Monday condemned the defense equipment transfer agreement signed by Japan and Canada, "
    "calling Japan a war criminal country. The Rodong Sinmun said the pact crossed a red line. "
    "Japan and Canada signed the agreement last week in Ottawa.",
    id="same1",
    publisher="Wire A",
    published=date(2026, 1, 12),
)
SAME_2 = art(
    "Pyongyang slams Japan, Canada defense deal as 'red line'",
    "Pyongyang condemned the Japan-Canada defense equipment transfer agreement, with the Rodong Sinmun "
    "calling Japan a war criminal country and saying the pact crossed a red line. The agreement was signed in Ottawa.",
    id="same2",
    publisher="Wire B",
    published=date(2026, 1, 13),
)


def test_same_story_becomes_one_story_with_several_sources(seeds: list[Article]) -> None:
    by_topic = stories_by_topic(
        [*seeds, SAME_1, SAME_2],
        RULES,
        threshold=SETTINGS.issue.same_story_similarity,
        order=("sources", "newest"),
    )
    stories = by_topic[SLUG]
    assert len(stories) == 3  # the pact story (2 sources) and the two seeds on their own
    first = stories[0]
    assert {a.id for a in first.articles} == {"same1", "same2"}  # most sources first
    seed_stories = [s for s in stories if len(s.articles) == 1]
    assert {s.lead.publisher for s in seed_stories} == {"PRISM News", "NVNK"}


def test_seeds_are_two_stories_not_one(seeds: list[Article]) -> None:
    stories = group_stories(SLUG, seeds, {}, threshold=SETTINGS.issue.same_story_similarity)
    assert len(stories) == 2


def test_lead_source_prefers_a_human_written_one() -> None:
    ai_copy = art(
        SAME_1.title,
        SAME_1.body,
        id="aicopy",
        publisher="Bot News",
        ai=True,
        published=date(2026, 1, 14),
    )
    (story,) = group_stories(SLUG, [ai_copy, SAME_1], {}, threshold=0.45)
    assert story.lead.id == "same1"
    assert story.key == min(
        ["aicopy", "same1"]
    )  # both first seen at once: the smaller id is the key


def test_order_newest_and_undated_last() -> None:
    old = art("Old story about Japan", "x", id="old", published=date(2026, 1, 1))
    new = art("New story about Japan", "y", id="new", published=date(2026, 2, 1))
    undated = art("Undated story about Japan", "z", id="undated")
    stories = group_stories(SLUG, [old, new, undated], {}, threshold=0.99)
    assert [s.key for s in order_stories(stories, ("newest",))] == ["new", "old", "undated"]
    assert [s.key for s in order_stories(stories, ("oldest",))] == ["old", "new", "undated"]
