"""Composition for the editor's work on an issue: draft, edit, approve, cancel, the
corrections of an article's fields, and the full view of an issue (its stories with their
articles) that rendering needs.

Every change is one transaction and leaves an event row: who did what, when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from briefing import corrections as fixes
from briefing.clock import utcnow
from briefing.config import Settings
from briefing.errors import (
    ArticleNotFound,
    BriefingError,
    EmptySubject,
    IssueNotEditable,
    NoApprover,
    NoIssueYet,
    NotAnIssueNumber,
    NotFoundError,
    NothingToChange,
)
from briefing.headertext import PREHEADER_MAX, SUBJECT_MAX, header_text, name_text, note_text
from briefing.issue import OPEN_STATES, default_preheader, default_subject, plan_stories
from briefing.models import Article, Issue, IssueStory, IssueView, Story, TopicMatch, TopicSection
from briefing.store import articles as article_store
from briefing.store import corrections as correction_store
from briefing.store import issues as store
from briefing.topics import compile_topics, match_all, stories_by_topic


def _who(actor: str) -> str:
    """Who did it, as the audit trail keeps it: one clean line (it is printed on terminals
    and in proofs), a name's length at most."""
    return name_text(actor) or ""


def topic_matches(settings: Settings, items: Sequence[Article]) -> dict[str, list[TopicMatch]]:
    rules = compile_topics(settings.topics)
    return {a.id: match_all(a, rules) for a in items}


def draft(
    settings: Settings, engine: Engine, *, actor: str = "cli", now: datetime | None = None
) -> Issue:
    """Build the next issue, or refresh the open one keeping the editor's changes."""
    now = now or utcnow()
    actor = _who(actor) or "unknown"
    rules = compile_topics(settings.topics)
    if not rules:
        raise BriefingError("no topics are configured", "add a [[topics]] table to briefing.toml")
    with engine.begin() as conn:
        ids = set(store.eligible_article_ids(conn))
        items = article_store.articles_by_ids(conn, ids)
        by_topic = stories_by_topic(
            items,
            rules,
            threshold=settings.issue.same_story_similarity,
            order=settings.issue.story_order,
        )
        previous = store.open_issue(conn)
        planned = plan_stories(
            by_topic,
            [r.slug for r in rules],
            {r.slug: r.topic.max_stories for r in rules},
            previous,
        )
        names = {r.slug: r.topic.name for r in rules}
        top = next((s.title for s in planned if not s.excluded), None)
        if previous is None:
            issue_id = store.create_issue(conn, subject="", preheader="", now=now, actor=actor)
        else:
            issue_id = previous.id
            changed = [(s.key, s.article_ids, s.excluded) for s in previous.stories] != [
                (s.key, s.article_ids, s.excluded) for s in planned
            ]
            if previous.state == "approved" and changed:
                store.set_state(
                    conn,
                    issue_id,
                    "draft",
                    now=now,
                    actor=actor,
                    detail={"why": "refreshed with new or changed stories"},
                    approved_by=None,
                    approved_at=None,
                )
        values: dict[str, object] = {}
        if previous is None or not previous.subject_edited:
            values["subject"] = default_subject(settings, top, issue_id, now)
        if previous is None or not previous.preheader_edited:
            values["preheader"] = default_preheader(settings, planned, names)
        store.update_issue(conn, issue_id, now, **values)
        store.save_stories(conn, issue_id, planned)
        if previous is not None:
            store.add_event(
                conn,
                issue_id,
                now,
                actor,
                "refreshed",
                {"stories": len(planned), "included": sum(not s.excluded for s in planned)},
            )
        return store.get_issue(conn, issue_id)


def resolve_issue(engine: Engine, ref: str | int | None) -> Issue:
    """An issue by number, or with no number the open one (else the newest)."""
    with engine.connect() as conn:
        if ref is None or ref == "":
            issue = store.open_issue(conn) or store.latest_issue(conn)
            if issue is None:
                raise NoIssueYet()
            return issue
        try:
            number = int(str(ref).lstrip("#"))
        except ValueError as exc:
            raise NotAnIssueNumber(str(ref)) from exc
        return store.get_issue(conn, number)


def list_issues(engine: Engine) -> list[Issue]:
    """Every issue, newest first."""
    with engine.connect() as conn:
        return store.list_issues(conn)


def history(engine: Engine, issue_id: int) -> list[dict[str, Any]]:
    """The issue's audit trail, oldest first: at, actor, action, detail."""
    with engine.connect() as conn:
        return store.events(conn, issue_id)


def view(settings: Settings, engine: Engine, issue: Issue) -> IssueView:
    """The issue's included stories with their articles, in topic and story order."""
    names = {t.slug: t for t in settings.topics}
    with engine.connect() as conn:
        wanted = {a for s in issue.included for a in s.article_ids}
        found = {a.id: a for a in article_store.articles_by_ids(conn, wanted)}
    sections: list[TopicSection] = []
    for story in issue.included:
        arts = tuple(found[a] for a in story.article_ids if a in found)
        if not arts:
            continue
        built = Story(key=story.key, topic=story.topic, articles=arts)
        if not sections or sections[-1].slug != story.topic:
            topic = names.get(story.topic)
            sections.append(
                TopicSection(
                    story.topic,
                    topic.name if topic else story.topic,
                    topic.description if topic else "",
                    (),
                )
            )
        sections[-1] = replace(sections[-1], stories=(*sections[-1].stories, built))
    return IssueView(issue, tuple(sections))


def edit(
    settings: Settings,
    engine: Engine,
    issue_id: int,
    *,
    actor: str,
    now: datetime | None = None,
    subject: str | None = None,
    preheader: str | None = None,
    note: str | None = None,
    exclude: Sequence[str] = (),
    restore: Sequence[str] = (),
    order: Sequence[str] | None = None,
) -> Issue:
    """Apply the editor's changes. Editing an approved issue sends it back to draft."""
    now = now or utcnow()
    actor = _who(actor) or "unknown"
    with engine.begin() as conn:
        issue = store.get_issue(conn, issue_id)
        if issue.state not in ("draft", "approved"):
            raise IssueNotEditable(issue_id, issue.state)
        values: dict[str, object] = {}
        changes: dict[str, object] = {}
        excluded_keys: list[str] = []
        restored_keys: list[str] = []
        if subject is not None:
            subject = header_text(subject, SUBJECT_MAX)
            if not subject:
                raise EmptySubject()
            values.update(subject=subject, subject_edited=True)
            changes["subject"] = values["subject"]
        if preheader is not None:
            values.update(preheader=header_text(preheader, PREHEADER_MAX), preheader_edited=True)
            changes["preheader"] = values["preheader"]
        if note is not None:
            values["editor_note"] = note_text(note) or None
            changes["note"] = values["editor_note"]
        stories = list(issue.stories)
        keys = {s.key: s for s in stories}

        def find(ref: str) -> IssueStory:
            hits = (
                [s for s in stories if s.key == ref or s.key.startswith(ref)]
                if len(ref) >= 4
                else []
            )
            if len(hits) != 1:
                raise NotFoundError(
                    f"no single story {ref!r} in issue {issue_id}",
                    f"story keys: {', '.join(s.key[:8] for s in stories)}",
                )
            return hits[0]

        for ref in exclude:
            s = find(ref)
            keys[s.key] = replace(s, excluded=True, reason="editor")
            excluded_keys.append(s.key)
        for ref in restore:
            s = find(ref)
            keys[s.key] = replace(s, excluded=False, reason=None)
            restored_keys.append(s.key)
        if excluded_keys:
            changes["excluded"] = excluded_keys
        if restored_keys:
            changes["restored"] = restored_keys
        ordered = [keys[s.key] for s in stories]
        if order:
            front = [keys[find(ref).key] for ref in order]
            seen = {s.key for s in front}
            ordered = front + [s for s in ordered if s.key not in seen]
            values["order_edited"] = True
            changes["order"] = [s.key for s in front]
        if not changes:
            raise NothingToChange()
        ordered = [replace(s, position=i) for i, s in enumerate(ordered)]
        if excluded_keys or restored_keys or order:
            # a subject or preheader the editor never wrote follows the stories shown
            if subject is None and not issue.subject_edited:
                top = next((s.title for s in ordered if not s.excluded), None)
                values["subject"] = default_subject(settings, top, issue_id, now)
            if preheader is None and not issue.preheader_edited:
                names = {t.slug: t.name for t in settings.topics}
                values["preheader"] = default_preheader(settings, ordered, names)
        store.save_stories(conn, issue_id, ordered)
        store.update_issue(conn, issue_id, now, **values)
        store.add_event(conn, issue_id, now, actor, "edited", changes)
        if issue.state == "approved":
            store.set_state(
                conn,
                issue_id,
                "draft",
                now=now,
                actor=actor,
                detail={"why": "edited after approval"},
                approved_by=None,
                approved_at=None,
            )
        return store.get_issue(conn, issue_id)


def approve(engine: Engine, issue_id: int, *, by: str, now: datetime | None = None) -> Issue:
    """The editorial sign-off: who approved, and when."""
    now = now or utcnow()
    by = _who(by)
    if not by:
        raise NoApprover()
    with engine.begin() as conn:
        issue = store.get_issue(conn, issue_id)
        if not issue.included:
            raise BriefingError(
                f"issue {issue_id} has no stories to send",
                "restore a story or ingest more articles",
            )
        store.set_state(
            conn,
            issue_id,
            "approved",
            now=now,
            actor=by.strip(),
            approved_by=by.strip(),
            approved_at=now,
        )
        return store.get_issue(conn, issue_id)


def cancel(engine: Engine, issue_id: int, *, by: str, now: datetime | None = None) -> Issue:
    now = now or utcnow()
    by = _who(by) or "unknown"
    with engine.begin() as conn:
        store.set_state(conn, issue_id, "cancelled", now=now, actor=by)
        return store.get_issue(conn, issue_id)


@dataclass(frozen=True)
class Corrected:
    """What ``correct_article`` did: the article as it is now, the corrections recorded,
    and the open issues it touched (``reopened``: approved ones sent back to draft)."""

    article: Article
    corrections: tuple[fixes.Correction, ...]
    issues: tuple[int, ...]
    reopened: tuple[int, ...]


def correct_article(
    settings: Settings,
    engine: Engine,
    article_id: str,
    changes: Sequence[tuple[str, fixes.Value]],
    *,
    by: str,
    now: datetime | None = None,
) -> Corrected:
    """Record an editor's corrections (values already checked by ``corrections.check``)
    and apply them, in one transaction. Setting a field to the value it has is recorded
    too: the editor confirmed it, and its confidence becomes 1.0.

    An open issue holding the article follows it: its story title, and the subject and
    preheader the editor did not write. An approved one goes back to draft, as for any
    edit of an approved issue: the approval was of what the article said before."""
    now = now or utcnow()
    by = fixes.check_by(by)
    if not changes:
        raise fixes.InvalidCorrection(
            "nothing to correct",
            "correct at least one field (fields: " + ", ".join(fixes.EDITABLE) + ")",
        )
    fields = [f for f, _ in changes]
    repeated = sorted({f for f in fields if fields.count(f) > 1})
    if repeated:
        raise fixes.InvalidCorrection(f"{', '.join(repeated)} is set twice", "set each field once")
    with engine.begin() as conn:
        article = article_store.get_article(conn, article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        made = {f: fixes.Correction(f, v, fixes.current(article, f), by, now) for f, v in changes}
        for c in made.values():
            correction_store.record(conn, article.id, c)
        fixed = fixes.apply(article, made)
        article_store.update_article(conn, fixed, now)
        touched, reopened = _follow_correction(settings, conn, fixed, sorted(made), by, now)
    return Corrected(fixed, tuple(made.values()), touched, reopened)


def _follow_correction(
    settings: Settings,
    conn: Connection,
    article: Article,
    fields: list[str],
    by: str,
    now: datetime,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ids = [n for n, state in store.issues_holding(conn, article.id) if state in OPEN_STATES]
    touched: list[int] = []
    reopened: list[int] = []
    names = {t.slug: t.name for t in settings.topics}
    for issue_id in sorted(set(ids)):
        issue = store.get_issue(conn, issue_id)
        stories = [
            replace(s, title=article.title) if s.article_ids[:1] == (article.id,) else s
            for s in issue.stories
        ]
        values: dict[str, object] = {}
        if stories != list(issue.stories):
            store.save_stories(conn, issue_id, stories)
            if not issue.subject_edited:
                top = next((s.title for s in stories if not s.excluded), None)
                values["subject"] = default_subject(settings, top, issue_id, now)
            if not issue.preheader_edited:
                values["preheader"] = default_preheader(settings, stories, names)
        store.update_issue(conn, issue_id, now, **values)
        store.add_event(
            conn, issue_id, now, by, "article_corrected", {"article": article.id, "fields": fields}
        )
        if issue.state == "approved":
            store.set_state(
                conn,
                issue_id,
                "draft",
                now=now,
                actor=by,
                detail={"why": f"article {article.id[:10]} corrected after approval"},
                approved_by=None,
                approved_at=None,
            )
            reopened.append(issue_id)
        touched.append(issue_id)
    return tuple(touched), tuple(reopened)
