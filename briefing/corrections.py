"""An editor's corrections of what ingest read from a page: which fields may be corrected,
how a value typed at the CLI or the desk is checked, and how corrections apply to an article.

Pure: no database. The newest correction of each field wins over every later ingest of the
same article (``briefing.store.articles.upsert_articles`` applies them), so a re-read of the
seed, feed or URL updates the other fields and leaves the corrected ones as corrected.

    parse_assignment("published=2026-01-07")  # -> ("published", date(2026, 1, 7))
    parse_assignment("colour=red")            # InvalidCorrection naming the field and the allowed ones
    apply(article, {"title": Correction(...)})  # -> the article with the value, confidence 1.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from briefing.errors import BriefingError
from briefing.headertext import TITLE_MAX, header_text, name_text
from briefing.models import CONFIDENCE_FIELDS, Article, Confidence

EDITABLE = ("title", "author", "published", "publisher", "ai_generated")
# a title cannot be cleared (an article needs one); the others can: "the page names none"
CLEARABLE = frozenset({"author", "published", "publisher"})
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
BY_MAX = 200

Value = str | date | bool | None


class InvalidCorrection(BriefingError):
    default_hint = "give each field a value it can hold (fields: " + ", ".join(EDITABLE) + ")"


@dataclass(frozen=True)
class Correction:
    """One field set by an editor: the new value, the one it replaced, who and when."""

    field: str
    value: Value
    previous: Value
    by: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": to_json_value(self.value),
            "previous": to_json_value(self.previous),
            "by": self.by,
            "at": self.at.isoformat(),
        }


def to_json_value(value: Value | datetime) -> str | bool | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def from_json_value(field: str, value: Any) -> Value:
    """A stored value back as the field's type (dates were stored as ISO text)."""
    if value is None:
        return None
    if field == "published":
        return date.fromisoformat(str(value)[:10])
    if field == "ai_generated":
        return bool(value)
    return str(value)


def parse_assignment(text: str) -> tuple[str, Value]:
    """``FIELD=VALUE`` from the command line, checked: see ``check``."""
    name, eq, raw = text.partition("=")
    name = name.strip()
    if not eq:
        raise InvalidCorrection(f"--set {text!r} has no '=': write FIELD=VALUE")
    return name, check(name, raw)


def check(field: str, raw: str) -> Value:
    """The value of one correction, typed by an editor, as the field holds it. A date in
    ISO form (2026-01-07), a boolean (true/false), or text cleaned like any header-bound
    text (titles reach the Subject). An empty value clears author, published or publisher."""
    if field not in EDITABLE:
        raise InvalidCorrection(
            f"{field!r} is not a field that can be corrected",
            f"the fields are: {', '.join(EDITABLE)}",
        )
    value = raw.strip()
    if field == "ai_generated":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise InvalidCorrection(
            f"ai_generated={raw!r} is not true or false", "write ai_generated=true or false"
        )
    if not value:
        if field in CLEARABLE:
            return None
        raise InvalidCorrection(f"the {field} cannot be empty", f"give the real {field}")
    if field == "published":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidCorrection(
                f"published={raw!r} is not a date in ISO form",
                "write the calendar date as YYYY-MM-DD, e.g. published=2026-01-07 "
                "(or published= for none)",
            ) from None
    cleaned = header_text(value, TITLE_MAX) if field == "title" else name_text(value)
    if not cleaned:
        raise InvalidCorrection(f"the {field} {raw!r} has no text left once cleaned")
    return cleaned


def check_by(by: str) -> str:
    """Who corrected: a name, as header-bound text (it is shown beside the value)."""
    name = name_text(by)
    if not name:
        raise InvalidCorrection(
            "a correction needs the editor's name", "pass --by NAME, e.g. --by 'Jane Editor'"
        )
    return name[:BY_MAX]


def current(article: Article, field: str) -> Value:
    value = getattr(article, field)
    if isinstance(value, datetime):
        return value.date()
    return value  # type: ignore[no-any-return]


def apply(article: Article, corrections: Mapping[str, Correction]) -> Article:
    """The article with each corrected field set, and its confidence 1.0 "corrected by"."""
    if not corrections:
        return article
    values: dict[str, Any] = {}
    confidence = dict(article.confidence)
    for field, c in corrections.items():
        values[field] = c.value
        if field == "ai_generated" and c.value is False:
            values["ai_disclosure"] = None  # the sentence read as a disclosure was not one
        same_day = isinstance(article.published, datetime) and c.value == article.published.date()
        if field == "published" and same_day:
            del values[field]  # the same day: the source's time is kept
        if field in CONFIDENCE_FIELDS:
            confidence[field] = Confidence(1.0, f"corrected by {c.by}")
    return replace(article, **values, confidence=confidence)
