"""Reading the article store for the edges: the list with each article's duplicates and
correction history, and one article in full."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from briefing.corrections import Correction
from briefing.errors import ArticleNotFound
from briefing.models import Article
from briefing.store import articles as store
from briefing.store import corrections as correction_store


@dataclass(frozen=True)
class Listing:
    """Articles newest first, the duplicates linked to each, and the corrections of
    each (articles with none are left out of both mappings)."""

    articles: list[Article]
    duplicates: dict[str, list[Article]]
    corrections: dict[str, list[Correction]]


@dataclass(frozen=True)
class Shown:
    """One article with its duplicates and its corrections, oldest first."""

    article: Article
    duplicates: list[Article]
    corrections: list[Correction]


def list_articles(
    engine: Engine,
    *,
    include_duplicates: bool = False,
    source: str | None = None,
    limit: int | None = None,
) -> Listing:
    with engine.connect() as conn:
        items = store.list_articles(
            conn, include_duplicates=include_duplicates, source=source, limit=limit
        )
        ids = [a.id for a in items]
        return Listing(items, store.duplicates_of(conn, ids), correction_store.histories(conn, ids))


def get(engine: Engine, article_id: str) -> Shown:
    """By full id or a unique prefix of it; ArticleNotFound when there is none."""
    with engine.connect() as conn:
        a = store.get_article(conn, article_id)
        if a is None:
            raise ArticleNotFound(article_id)
        return Shown(
            a, store.duplicates_of(conn, [a.id]).get(a.id, []), correction_store.history(conn, a.id)
        )
