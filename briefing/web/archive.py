"""The public archive: /archive (the sent issues, newest first), /archive/N (one sent
issue's web version) and /archive.atom (their Atom feed). Only issues that were sent are
published.

Each issue's page is stored when it is sent (services.archive), so /archive/N serves
those bytes as they are, and the list and the feed come from one query: nothing is
rendered per request but two small templates. Every answer carries an ETag (a hash of
its bytes) and a public Cache-Control, and an If-None-Match that matches gets a 304.
The handlers are plain functions: Starlette runs them in its thread pool, so the
database never blocks the event loop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from briefing import links
from briefing.config import Settings
from briefing.render.env import make_environment, render_template
from briefing.services import archive

FEED_LIMIT = 50  # entries in the Atom feed
# A sent issue's page never changes: caches may keep it; the list and the feed change
# when an issue is sent, so they are kept for less.
ISSUE_CACHE = "public, max-age=300, stale-while-revalidate=3600"
LIST_CACHE = "public, max-age=60, stale-while-revalidate=300"


def matches(request: Request, etag: str) -> bool:
    """Whether the request's If-None-Match names ``etag`` (weak or strong, or ``*``)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    for one in header.split(","):
        tag = one.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def cached(
    request: Request, body: bytes, media_type: str, cache: str, digest: str | None = None
) -> Response:
    """``body`` with its ETag and Cache-Control, or a 304 when the client holds it."""
    etag = f'"{digest or archive.etag_of(body)}"'
    headers = {"ETag": etag, "Cache-Control": cache}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def archive_routes(
    settings: Settings,
    engine: Engine,
    page: Callable[..., HTMLResponse],
    plain: Callable[..., str],
) -> list[Route]:
    """``page`` renders a page with its form token (the 404); ``plain`` renders one
    without (the list has no form, and a cookie would keep caches from sharing it)."""

    def templates_dir() -> Path | None:
        return settings.path(settings.issue.templates) if settings.issue.templates else None

    env = make_environment(templates_dir())

    def index(request: Request) -> Response:
        found = archive.sent(engine)
        body = plain("archive", issues=found, feed_url=links.ARCHIVE_FEED).encode()
        return cached(request, body, "text/html; charset=utf-8", LIST_CACHE)

    def one(request: Request) -> Response:
        ref = links.issue_number(request.path_params["issue_id"])
        stored = archive.page(settings, engine, ref) if ref is not None else None
        if stored is None:
            return page(
                request,
                "message",
                404,
                title="No such issue in the archive",
                text="Only issues that were sent are published here.",
            )
        body = stored.html.encode()
        return cached(request, body, "text/html; charset=utf-8", ISSUE_CACHE, stored.etag)

    def atom(request: Request) -> Response:
        found, updated = archive.feed(settings, engine, FEED_LIMIT)
        base = settings.newsletter.base_url
        entries: list[dict[str, Any]] = [
            {
                "issue": issue,
                "url": links.archive_url(base, issue.id),
                "stories": (issue.entry or {}).get("stories", []),
                "ai": bool((issue.entry or {}).get("ai")),
            }
            for issue in found
        ]
        body = render_template(
            env,
            "web/archive.atom.j2",
            templates_dir(),
            newsletter=settings.newsletter,
            entries=entries,
            updated=updated,
        ).encode()
        # with no issue sent, <updated> is the time of the request: leave it out of the
        # ETag, so the empty feed keeps one
        digest = archive.etag_of(body if found else body.replace(updated.isoformat().encode(), b""))
        return cached(request, body, "application/atom+xml; charset=utf-8", LIST_CACHE, digest)

    return [
        Route(links.ARCHIVE, index),
        Route(links.ARCHIVE + "/", index),
        Route(links.ARCHIVE_FEED, atom),
        Route(links.ARCHIVE_ISSUE_ROUTE, one),
    ]
