"""The one preview builder: an issue rendered for one reader (the sample reader, or the
issue's first real recipient with their own links), the checks on what that reader gets,
and, on demand, the whole message and the archive page. Used by the desk (always the
sample reader: clicking in the preview must not unsubscribe anyone) and by
`briefing preview` (the first recipient, so the files show real links)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from briefing import links
from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.message import SAMPLE, Recipient, build_message
from briefing.models import Issue, IssueView
from briefing.render import render_issue, render_web
from briefing.render.compile import RenderedIssue
from briefing.render.lint import Finding, lint
from briefing.services import issues as editorial
from briefing.services import subscriptions

Reader = Literal["sample", "first"]


def sample_reader(settings: Settings) -> Recipient:
    """The made-up reader whose links lead nowhere (a token no subscriber has)."""
    base = settings.newsletter.base_url
    return Recipient(
        email=SAMPLE.email,
        name=SAMPLE.name,
        token=SAMPLE.token,
        unsubscribe_url=links.unsubscribe_url(base, SAMPLE.token),
        preferences_url=links.preferences_url(base, SAMPLE.token),
    )


def first_recipient(settings: Settings, engine: Engine, topics: set[str]) -> tuple[Recipient, str]:
    """The first real recipient of an issue on ``topics`` (with their own links) and their
    subscriber key; else the sample reader and "sample"."""
    person = next(iter(subscriptions.recipients(engine, topics)), None)
    if person is None or person.email is None:
        return sample_reader(settings), "sample"
    found = subscriptions.links(settings, person, settings.secrets())
    real = Recipient(
        email=person.email,
        name=person.name,
        unsubscribe_url=found.unsubscribe_url,
        preferences_url=found.preferences_url,
        token=found.token,
    )
    return real, str(person.id)


def _templates(settings: Settings) -> Path | None:
    return settings.path(settings.issue.templates) if settings.issue.templates else None


@dataclass(frozen=True)
class Preview:
    """An issue as one reader gets it. ``findings`` are lint's checks on that email."""

    settings: Settings
    issue: Issue
    view: IssueView
    rendered: RenderedIssue
    reader: Recipient
    reader_key: str  # the subscriber's id, or "sample"
    html: str
    text: str
    now: datetime

    @cached_property
    def findings(self) -> list[Finding]:
        return lint(
            self.rendered,
            self.view,
            html=self.html,
            text=self.text,
            max_html_bytes=self.settings.issue.max_html_bytes,
        )

    def message(self) -> EmailMessage:
        """The whole message, headers included, as this reader would get it."""
        return build_message(
            self.rendered,
            self.settings,
            issue_id=self.issue.id,
            to=self.reader,
            subscriber_key=self.reader_key,
            date=self.now,
        )

    def web(self) -> str:
        """The archive page of the issue."""
        return render_web(
            self.view, self.settings, now=self.now, templates=_templates(self.settings)
        )


def build(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    *,
    reader: Reader = "sample",
    now: datetime | None = None,
) -> Preview:
    """Render ``issue`` for the sample reader, or for its first real recipient."""
    now = now or utcnow()
    view = editorial.view(settings, engine, issue)
    rendered = render_issue(view, settings, now=now, templates=_templates(settings))
    if reader == "first":
        person, key = first_recipient(settings, engine, {s.topic for s in issue.included})
    else:
        person, key = sample_reader(settings), "sample"
    html, text = rendered.personalize(
        {
            "unsubscribe": person.unsubscribe_url,
            "preferences": person.preferences_url,
            "name": person.name or "",
        }
    )
    return Preview(settings, issue, view, rendered, person, key, html, text, now)
