"""The newsletter's plain values: frozen dataclasses, standard library only.

Every stage hands these to the next; none of them knows about the database,
the CLI or the web app.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, Literal

from briefing.headertext import TITLE_MAX, header_text, name_text

# "page": fetched from a URL (`ingest --url`, the desk's "Add by URL")
SourceKind = Literal["seed", "feed", "page"]
# The fields whose every value says how sure ingest is of it (and an editor may correct).
CONFIDENCE_FIELDS = ("title", "author", "published", "publisher")
# Below this a field is flagged "uncertain" (as briefing.sources.extract.UNCERTAIN_BELOW).
UNCERTAIN_BELOW = 0.5


def digest(*parts: str) -> str:
    """A short stable hex digest of some strings (ids, fingerprints, change detection)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:24]


def published_iso(value: date | datetime | None) -> str | None:
    """ISO 8601: a bare date stays a date; a datetime is given in UTC with its offset."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


@dataclass(frozen=True)
class Confidence:
    """How sure ingest is of one field's value (0..1), and why: the extractor's rule,
    "declared by the feed", "set in the seed's front matter", "corrected by NAME"."""

    value: float
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", round(min(max(float(self.value), 0.0), 1.0), 2))


@dataclass(frozen=True)
class Article:
    """One item, from a seed file or a feed entry, normalized.

    ``published`` is a ``date`` when the source gives only a day, a UTC ``datetime``
    when it gives a time, and ``None`` when it gives nothing: never invented.
    ``ai_disclosure`` is the source's own sentence declaring the text AI-generated.
    ``confidence`` says, per field of ``CONFIDENCE_FIELDS``, how sure ingest is of it;
    ``extraction`` is the extractor's explanation (``Extraction.to_json()``), when one
    read the page. Neither is what a reader sees, so neither counts in ``content_hash``.
    """

    id: str
    source_kind: SourceKind
    source: str
    title: str
    url: str | None = None
    guid: str | None = None
    publisher: str | None = None
    author: str | None = None
    published: date | datetime | None = None
    updated: datetime | None = None
    dek: str | None = None
    summary: str = ""
    body: str = ""
    body_html: str | None = None
    section: str | None = None
    labels: tuple[str, ...] = ()
    reading_time_min: int | None = None
    ai_generated: bool = False
    ai_disclosure: str | None = None
    notes: tuple[str, ...] = ()
    first_seen: datetime | None = None
    duplicate_of: str | None = None
    confidence: Mapping[str, Confidence] = field(default_factory=dict, compare=False)
    extraction: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # the title can become a Subject; publisher and author are names a reader sees:
        # whatever the source (a feed, a seed's front matter), they lose control characters
        object.__setattr__(self, "title", header_text(self.title, TITLE_MAX))
        object.__setattr__(self, "publisher", name_text(self.publisher))
        object.__setattr__(self, "author", name_text(self.author))
        if not self.title:
            raise ValueError("an article needs a title")
        if isinstance(self.published, datetime) and self.published.tzinfo is None:
            object.__setattr__(self, "published", self.published.replace(tzinfo=UTC))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "notes", tuple(self.notes))

    @cached_property
    def word_count(self) -> int:
        return len(self.body.split())

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything a reader would see changes."""
        return digest(
            self.title,
            self.url or "",
            self.publisher or "",
            self.author or "",
            published_iso(self.published) or "",
            self.dek or "",
            self.summary,
            self.body,
            self.body_html or "",
            self.section or "",
            "|".join(self.labels),
            str(self.reading_time_min),
            str(self.ai_generated),
            self.ai_disclosure or "",
        )

    def uncertain(self) -> list[str]:
        """The fields with a value ingest is not sure of (flagged for the editor)."""
        return [
            name
            for name in CONFIDENCE_FIELDS
            if name in self.confidence
            and getattr(self, name) is not None
            and self.confidence[name].value < UNCERTAIN_BELOW
        ]

    @cached_property
    def fingerprint(self) -> str:
        """Same story, different URL: normalized title plus the opening words of the text."""
        words = " ".join((self.body or self.summary)[:2000].lower().split(maxsplit=60)[:60])
        title = " ".join(self.title.lower().split())
        return digest(title, words)


@dataclass(frozen=True)
class SourceReport:
    """What one ingest run did with one seed file or feed."""

    source: str
    kind: SourceKind
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failed: int = 0
    status: str = "ok"
    error: str | None = None
    hint: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TopicMatch:
    """How an article scored against one topic, and why."""

    slug: str
    score: float
    terms: dict[str, int]  # matched term -> times found (title, standfirst and body)
    assigned: bool
    reason: str  # "score 12.5 >= 6" or what kept it out


@dataclass(frozen=True)
class Story:
    """One story in a topic: the articles that report it, the lead (best) source first."""

    key: str  # id of the article first seen for this story: stable as more sources arrive
    topic: str
    articles: tuple[Article, ...]
    score: float = 0.0

    @property
    def lead(self) -> Article:
        return self.articles[0]

    @property
    def newest(self) -> datetime | None:
        """The latest date a source gives; None when no source gives one (not "now")."""
        moments = [_moment(a) for a in self.articles]
        known = [m for m in moments if m is not None]
        return max(known) if known else None

    @property
    def ai_generated(self) -> bool:
        return any(a.ai_generated for a in self.articles)


def _moment(a: Article) -> datetime | None:
    """The article's own date as a UTC datetime, or None when its source gives none."""
    if isinstance(a.published, datetime):
        return a.published
    if isinstance(a.published, date):
        return datetime(a.published.year, a.published.month, a.published.day, tzinfo=UTC)
    return None


IssueState = Literal["draft", "approved", "sending", "sent", "cancelled", "expired"]


@dataclass(frozen=True)
class IssueStory:
    """A story's place in an issue; ``excluded`` stories stay listed so the editor can restore them."""

    key: str
    topic: str
    article_ids: tuple[str, ...]
    position: int
    excluded: bool = False
    reason: str | None = None  # why excluded: "editor", or "cap" (over the topic's max_stories)
    title: str = ""


@dataclass(frozen=True)
class Issue:
    id: int
    state: IssueState
    subject: str
    preheader: str
    editor_note: str | None
    created_at: datetime
    updated_at: datetime
    subject_edited: bool = False
    preheader_edited: bool = False
    order_edited: bool = False
    approved_by: str | None = None
    approved_at: datetime | None = None
    sent_at: datetime | None = None
    stories: tuple[IssueStory, ...] = ()
    planned_for: datetime | None = None  # the scheduled send it is for (None: made by hand)

    @property
    def included(self) -> tuple[IssueStory, ...]:
        return tuple(s for s in self.stories if not s.excluded)

    @property
    def reviewed(self) -> bool:
        """False when the scheduler approved it because no approval was required."""
        return not (self.approved_by or "").startswith(AUTO_APPROVER)


# who `approved` an issue the scheduler sent without review (require_approval = false)
AUTO_APPROVER = "scheduler"


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str | None  # None once forgotten
    name: str | None
    status: str  # pending | active | unsubscribed | bounced | complained | forgotten
    paused: bool
    topics: tuple[str, ...] | None  # None: every topic
    timezone: str | None
    locale: str | None
    token_id: str
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    unsubscribe_reason: str | None = None
    consent: dict[str, str | None] = field(default_factory=dict)

    @property
    def reachable(self) -> bool:
        """Active, not paused, with an address (store/recipients.py: the same rule in SQL)."""
        return self.status == "active" and not self.paused and bool(self.email)

    def receives(self, topics: set[str]) -> bool:
        """Would this subscriber get an issue covering ``topics``? The rule, and its SQL
        twin, are written down in store/recipients.py."""
        if not self.reachable:
            return False
        return self.topics is None or bool(set(self.topics) & topics)


@dataclass(frozen=True)
class TopicSection:
    slug: str
    name: str
    description: str
    stories: tuple[Story, ...]


@dataclass(frozen=True)
class IssueView:
    """An issue with its included stories resolved to articles, topic by topic."""

    issue: Issue
    sections: tuple[TopicSection, ...]

    @property
    def stories(self) -> list[Story]:
        return [s for sec in self.sections for s in sec.stories]

    @property
    def articles(self) -> list[Article]:
        return [a for s in self.stories for a in s.articles]
