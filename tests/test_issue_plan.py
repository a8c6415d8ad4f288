"""briefing.issue, pure: which state moves are allowed, and how a draft's stories are planned.

No database: hand-built Story and Issue values only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import product
from typing import get_args

import pytest

from briefing.issue import IssueStateError, check_transition, plan_stories
from briefing.models import Article, Issue, IssueState, IssueStory, Story

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
STATES: tuple[IssueState, ...] = get_args(IssueState)

# the diagram in briefing/issue.py, written out by hand (not read from TRANSITIONS)
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("draft", "approved"),
        ("draft", "cancelled"),
        ("draft", "expired"),
        ("approved", "draft"),  # an edit sends it back
        ("approved", "sending"),
        ("approved", "cancelled"),
        ("approved", "expired"),
        ("sending", "sent"),
        ("sending", "approved"),  # a send that stopped part-way
    }
)
REFUSED = sorted(
    (current, target)
    for current, target in product(STATES, STATES)
    if (current, target) not in ALLOWED
)


# --- check_transition ---------------------------------------------------------------------


def test_the_states_are_the_six_the_diagram_names() -> None:
    assert set(STATES) == {"draft", "approved", "sending", "sent", "cancelled", "expired"}


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_moves_pass(current: str, target: IssueState) -> None:
    check_transition(1, current, target)  # raises when refused


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_move_is_refused(current: str, target: IssueState) -> None:
    with pytest.raises(IssueStateError):
        check_transition(1, current, target)


@pytest.mark.parametrize("state", ["sent", "cancelled", "expired"])
def test_a_finished_issue_goes_nowhere(state: str) -> None:
    for target in STATES:
        with pytest.raises(IssueStateError, match=f"is {state}; it cannot become {target}$"):
            check_transition(3, state, target)


def test_staying_in_the_same_state_is_not_a_move() -> None:
    for state in STATES:
        with pytest.raises(IssueStateError):
            check_transition(1, state, state)


def test_an_unknown_current_state_refuses_everything() -> None:
    for target in STATES:
        with pytest.raises(IssueStateError, match="issue 5 is archived"):
            check_transition(5, "archived", target)


def test_the_refusal_names_the_issue_both_states_and_points_at_briefing_issues() -> None:
    from briefing.cli import words

    with pytest.raises(IssueStateError) as caught:
        check_transition(42, "draft", "sent")
    exc = caught.value
    assert exc.message == "issue 42 is draft; it cannot become sent"
    assert (exc.issue_id, exc.state, exc.target) == (42, "draft", "sent")
    assert str(exc) == exc.message
    assert exc.hint == "see each issue's state in the list of issues"  # the desk shows it too
    assert words.error(exc)[1] == "see `briefing issues` for each issue's state"
    # a BriefingError, so the CLI reports it as error + hint (not a traceback)
    assert "BriefingError" in [c.__name__ for c in type(exc).__mro__]


# --- plan_stories -------------------------------------------------------------------------


def article(id: str, title: str | None = None) -> Article:
    return Article(id=id, source_kind="feed", source="feed:test", title=title or f"Title {id}")


def story(key: str, *others: str, topic: str = "t", title: str | None = None) -> Story:
    """A story keyed ``key`` whose lead article is ``key`` (then ``others``)."""
    arts = (article(key, title), *(article(o) for o in others))
    return Story(key=key, topic=topic, articles=arts)


def previous(*stories: IssueStory, order_edited: bool = False) -> Issue:
    return Issue(
        id=1,
        state="draft",
        subject="s",
        preheader="p",
        editor_note=None,
        created_at=T0,
        updated_at=T0,
        order_edited=order_edited,
        stories=stories,
    )


def was(
    key: str, position: int, *, excluded: bool = False, reason: str | None = None
) -> IssueStory:
    return IssueStory(
        key=key, topic="t", article_ids=(key,), position=position, excluded=excluded, reason=reason
    )


def plan(
    by_topic: Mapping[str, Sequence[Story]],
    order: Sequence[str] = ("t",),
    caps: Mapping[str, int] | None = None,
    prev: Issue | None = None,
) -> tuple[IssueStory, ...]:
    return plan_stories(by_topic, order, caps or {}, prev)


def keys(planned: Sequence[IssueStory]) -> list[str]:
    return [s.key for s in planned]


def test_nothing_to_plan_is_an_empty_tuple() -> None:
    assert plan({}) == ()
    assert plan({"t": []}) == ()


def test_each_story_carries_its_topic_articles_position_and_lead_title() -> None:
    (planned,) = plan({"t": [story("a", "b", "c", title="The lead")]})
    assert planned == IssueStory(
        key="a",
        topic="t",
        article_ids=("a", "b", "c"),  # in the story's order: the lead first
        position=0,
        excluded=False,
        reason=None,
        title="The lead",
    )


def test_topics_follow_topic_order_and_positions_run_across_topics() -> None:
    by_topic = {"x": [story("x1", topic="x"), story("x2", topic="x")], "y": [story("y1")]}
    planned = plan(by_topic, order=("y", "x"))
    assert [(s.key, s.topic, s.position) for s in planned] == [
        ("y1", "y", 0),
        ("x1", "x", 1),
        ("x2", "x", 2),
    ]


def test_a_topic_not_in_topic_order_is_left_out_and_a_missing_one_is_skipped() -> None:
    by_topic = {"kept": [story("k")], "dropped": [story("d")]}
    assert keys(plan(by_topic, order=("absent", "kept"))) == ["k"]


def test_the_topic_slug_comes_from_topic_order_not_the_story() -> None:
    (planned,) = plan({"t": [story("a", topic="elsewhere")]})
    assert planned.topic == "t"


def test_stories_keep_the_order_they_are_given_in_a_topic() -> None:
    assert keys(plan({"t": [story("c"), story("a"), story("b")]})) == ["c", "a", "b"]


def test_the_cap_excludes_the_overflow_but_keeps_it_listed() -> None:
    planned = plan({"t": [story(k) for k in "abcd"]}, caps={"t": 2})
    assert [(s.key, s.excluded, s.reason) for s in planned] == [
        ("a", False, None),
        ("b", False, None),
        ("c", True, "cap"),
        ("d", True, "cap"),
    ]
    assert [s.position for s in planned] == [0, 1, 2, 3]


def test_the_cap_defaults_to_ten_per_topic() -> None:
    planned = plan({"t": [story(f"s{i:02}") for i in range(12)]}, caps={"other": 1})
    assert [s.excluded for s in planned] == [False] * 10 + [True] * 2


def test_each_topic_has_its_own_cap() -> None:
    by_topic = {"x": [story("x1"), story("x2")], "y": [story("y1"), story("y2")]}
    planned = plan(by_topic, order=("x", "y"), caps={"x": 1, "y": 2})
    assert [(s.key, s.excluded) for s in planned] == [
        ("x1", False),
        ("x2", True),
        ("y1", False),
        ("y2", False),
    ]


def test_the_editors_exclusion_stays_and_does_not_use_up_the_cap() -> None:
    prev = previous(was("a", 0, excluded=True, reason="editor"), was("b", 1))
    planned = plan({"t": [story("a"), story("b"), story("c")]}, caps={"t": 1}, prev=prev)
    assert [(s.key, s.excluded, s.reason) for s in planned] == [
        ("a", True, "editor"),
        ("b", False, None),  # the one shown: the editor's exclusion did not count
        ("c", True, "cap"),
    ]


@pytest.mark.parametrize("reason", ["cap", None, "something else"])
def test_only_an_editors_exclusion_is_kept(reason: str | None) -> None:
    prev = previous(was("a", 0, excluded=True, reason=reason))
    (planned,) = plan({"t": [story("a")]}, caps={"t": 5}, prev=prev)
    assert (planned.excluded, planned.reason) == (False, None)


def test_a_story_the_editor_left_in_can_still_be_capped() -> None:
    prev = previous(was("a", 0), was("b", 1))
    planned = plan({"t": [story("a"), story("b")]}, caps={"t": 1}, prev=prev)
    assert [(s.key, s.reason) for s in planned] == [("a", None), ("b", "cap")]


def test_without_an_edited_order_the_new_order_wins() -> None:
    prev = previous(was("b", 0), was("a", 1), order_edited=False)
    assert keys(plan({"t": [story("a"), story("b")]}, prev=prev)) == ["a", "b"]


def test_an_edited_order_is_kept_and_new_stories_go_after_it() -> None:
    prev = previous(was("c", 0), was("a", 1), was("gone", 2), order_edited=True)
    by_topic = {"t": [story("new1"), story("a"), story("c"), story("new2")]}
    planned = plan(by_topic, prev=prev)
    assert keys(planned) == ["c", "a", "new1", "new2"]
    assert [s.position for s in planned] == [0, 1, 2, 3]  # renumbered, nothing left for "gone"


def test_the_cap_applies_after_the_editors_order() -> None:
    prev = previous(was("b", 0), was("a", 1), order_edited=True)
    planned = plan({"t": [story("a"), story("b")]}, caps={"t": 1}, prev=prev)
    assert [(s.key, s.excluded) for s in planned] == [("b", False), ("a", True)]


def test_an_edited_order_stays_within_each_topic() -> None:
    prev = previous(was("y1", 0), was("x2", 1), was("x1", 2), order_edited=True)
    by_topic = {"x": [story("x1"), story("x2")], "y": [story("y1")]}
    planned = plan(by_topic, order=("x", "y"), prev=prev)
    assert [(s.key, s.topic) for s in planned] == [("x2", "x"), ("x1", "x"), ("y1", "y")]


def test_planning_does_not_change_its_inputs() -> None:
    stories = [story("a"), story("b")]
    prev = previous(was("b", 0), was("a", 1), order_edited=True)
    plan({"t": stories}, prev=prev)
    assert [s.key for s in stories] == ["a", "b"]
    assert [s.key for s in prev.stories] == ["b", "a"]
