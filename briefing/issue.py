"""What goes into the next issue, and the states an issue moves through. Pure.

    draft ──approve──> approved ──send──> sending ──> sent
      ^  <──edit────────┘  │                 │
      └─────────── cancel / expire ──────────┴──> cancelled | expired

Refreshing a draft recomputes its stories from the articles not yet in a sent issue,
and keeps what the editor decided: excluded stories stay excluded, a hand-made order
stays (new stories go after it), an edited subject, preheader or note stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from briefing.config import Settings
from briefing.errors import BriefingError, IssueStateError

__all__ = [
    "OPEN_STATES",
    "TRANSITIONS",
    "IssueStateError",
    "check_transition",
    "default_preheader",
    "default_subject",
    "plan_stories",
]
from briefing.headertext import PREHEADER_MAX, SUBJECT_MAX, header_text
from briefing.models import Issue, IssueStory, Story
from briefing.states import OPEN_STATES, TRANSITIONS, check_transition


def plan_stories(
    by_topic: Mapping[str, Sequence[Story]],
    topic_order: Sequence[str],
    caps: Mapping[str, int],
    previous: Issue | None,
) -> tuple[IssueStory, ...]:
    """The issue's stories, topic by topic, keeping the editor's exclusions and order."""
    before = {s.key: s for s in previous.stories} if previous else {}
    keep_order = previous is not None and previous.order_edited
    planned: list[IssueStory] = []
    for slug in topic_order:
        stories = list(by_topic.get(slug, ()))
        if keep_order:
            known = sorted(
                (s for s in stories if s.key in before), key=lambda s: before[s.key].position
            )
            stories = known + [s for s in stories if s.key not in before]
        shown = 0
        for story in stories:
            prior = before.get(story.key)
            excluded, reason = False, None
            if prior is not None and prior.excluded and prior.reason == "editor":
                excluded, reason = True, "editor"
            elif shown >= caps.get(slug, 10):
                excluded, reason = True, "cap"
            if not excluded:
                shown += 1
            planned.append(
                IssueStory(
                    key=story.key,
                    topic=slug,
                    article_ids=tuple(a.id for a in story.articles),
                    position=len(planned),
                    excluded=excluded,
                    reason=reason,
                    title=story.lead.title,
                )
            )
    return tuple(planned)


def default_subject(settings: Settings, top_title: str | None, number: int, when: datetime) -> str:
    template = settings.issue.subject
    values = {
        "name": settings.newsletter.name,
        "top_story": top_title or "this week's briefing",
        "date": f"{when.day} {when:%B %Y}",
        "number": str(number),
    }
    try:
        return header_text(template.format(**values), SUBJECT_MAX)
    except (KeyError, IndexError, ValueError) as exc:
        raise BriefingError(
            f"issue.subject {template!r} has an unknown placeholder: {exc}",
            "use {name}, {top_story}, {date} or {number}",
        ) from exc


def default_preheader(
    settings: Settings, stories: Sequence[IssueStory], topic_names: Mapping[str, str]
) -> str:
    if settings.issue.preheader:
        return header_text(settings.issue.preheader, PREHEADER_MAX)
    shown = [s for s in stories if not s.excluded]
    if not shown:
        return "No new stories this week."
    topics = list(dict.fromkeys(topic_names.get(s.topic, s.topic) for s in shown))
    count = f"{len(shown)} {'story' if len(shown) == 1 else 'stories'}"
    more = f" Also: {shown[1].title}" if len(shown) > 1 else ""
    text = f"{count} on {', '.join(topics)}.{more}"
    return header_text(text if len(text) <= 140 else text[:139].rstrip() + "…", PREHEADER_MAX)
