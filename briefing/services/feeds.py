"""The feeds Briefing fetches: those in the config and those added with a feed given
to ingest (kept between runs), with how their last fetch went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from briefing.config import Settings
from briefing.errors import FeedNotAdded
from briefing.services.ingest import feed_location
from briefing.store import articles as store


@dataclass(frozen=True)
class Feed:
    """One feed: ``record`` is its stored source row (empty if never fetched); ``origin``
    is "config" for a feed from the config, else the row's own origin."""

    location: str | None
    name: str | None
    origin: str | None
    record: dict[str, Any] = field(default_factory=dict)


def list_feeds(settings: Settings, engine: Engine) -> list[Feed]:
    """The config's feeds in config order, then those added by hand."""
    with engine.connect() as conn:
        known = {r["key"]: r for r in store.list_sources(conn, "feed")}
    found: list[Feed] = []
    for f in settings.feeds:
        key = "feed:" + feed_location(f.url, settings.root)
        found.append(Feed(f.url, f.name, "config", known.pop(key, {})))
    for r in known.values():
        if r["origin"] == "cli":
            found.append(Feed(r.get("location"), r.get("name"), r.get("origin"), r))
    return found


def remove(engine: Engine, location: str) -> None:
    """Stop fetching a feed added by hand (its articles stay)."""
    with engine.begin() as conn:
        if not store.remove_source(conn, "feed:" + feed_location(location)):
            raise FeedNotAdded(location)
