"""The public archive: /archive (the sent issues, newest first), /archive/N (one sent
issue's web version) and /archive.atom (their Atom feed). Only issues that were sent are
published.

Each issue's page is stored when it is sent (services.archive), so /archive/N serves
those bytes as they are, and the list and the feed come from one query: nothing is
rendered per request but two small templates. Every answer carries an ETag (a hash of
its bytes) and a public Cache-Control, and an If-None-Match that matches gets a 304.

A sent issue's page never changes once stored, so each process also keeps the pages it
served in memory (PAGE_MEMORY of them) and answers those without the database; the list
and the feed are kept for LIST_SECONDS, or until this process stores a page (a send
from the desk shows at once; one from another process within LIST_SECONDS).
Every database call runs in the thread pool (run_in_threadpool), off the event loop."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
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
PAGE_MEMORY = 64  # issue pages each process keeps in memory (the newest are read most)
LIST_SECONDS = 2.0  # how long a process reuses the list and the feed it rendered


@dataclass(frozen=True)
class Body:
    data: bytes
    digest: str  # the ETag's value, unquoted


class Memory:
    """The issue pages a process served (least recently used out first), and the list
    and the feed with the moment each was made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: OrderedDict[int, Body] = OrderedDict()
        self._lists: dict[str, tuple[float, int, Body]] = {}

    def page(self, issue_id: int) -> Body | None:
        with self._lock:
            found = self._pages.get(issue_id)
            if found is not None:
                self._pages.move_to_end(issue_id)
            return found

    def keep_page(self, issue_id: int, body: Body) -> None:
        with self._lock:
            self._pages[issue_id] = body
            while len(self._pages) > PAGE_MEMORY:
                self._pages.popitem(last=False)

    def listed(self, name: str) -> Body | None:
        with self._lock:
            found = self._lists.get(name)
        if found is None or time.monotonic() - found[0] > LIST_SECONDS:
            return None
        if found[1] != archive.stored_here():  # an issue was sent by this process since
            return None
        return found[2]

    def keep_listed(self, name: str, body: Body, stored: int) -> None:
        with self._lock:
            self._lists[name] = (time.monotonic(), stored, body)


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


def cached(request: Request, body: Body, media_type: str, cache: str) -> Response:
    """``body`` with its ETag and Cache-Control, or a 304 when the client holds it."""
    etag = f'"{body.digest}"'
    headers = {"ETag": etag, "Cache-Control": cache}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body.data, media_type=media_type, headers=headers)


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
    memory = Memory()

    def listing() -> Body:
        found = archive.sent(engine)
        data = plain("archive", issues=found, feed_url=links.ARCHIVE_FEED).encode()
        return Body(data, archive.etag_of(data))

    async def index(request: Request) -> Response:
        body = memory.listed("list")
        if body is None:
            stored = archive.stored_here()
            body = await run_in_threadpool(listing)
            memory.keep_listed("list", body, stored)
        return cached(request, body, "text/html; charset=utf-8", LIST_CACHE)

    def stored_page(issue_id: int) -> Body | None:
        stored = archive.page(settings, engine, issue_id)
        return Body(stored.html.encode(), stored.etag) if stored is not None else None

    async def one(request: Request) -> Response:
        ref = links.issue_number(request.path_params["issue_id"])
        body = memory.page(ref) if ref is not None else None
        if body is None and ref is not None:
            body = await run_in_threadpool(stored_page, ref)
            if body is not None:
                memory.keep_page(ref, body)
        if body is None:
            return page(
                request,
                "message",
                404,
                title="No such issue in the archive",
                text="Only issues that were sent are published here.",
            )
        return cached(request, body, "text/html; charset=utf-8", ISSUE_CACHE)

    def feed() -> Body:
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
        data = render_template(
            env,
            "web/archive.atom.j2",
            templates_dir(),
            newsletter=settings.newsletter,
            entries=entries,
            updated=updated,
        ).encode()
        # with no issue sent, <updated> is the time of the request: leave it out of the
        # ETag, so the empty feed keeps one
        digest = archive.etag_of(data if found else data.replace(updated.isoformat().encode(), b""))
        return Body(data, digest)

    async def atom(request: Request) -> Response:
        body = memory.listed("feed")
        if body is None:
            stored = archive.stored_here()
            body = await run_in_threadpool(feed)
            memory.keep_listed("feed", body, stored)
        return cached(request, body, "application/atom+xml; charset=utf-8", LIST_CACHE)

    return [
        Route(links.ARCHIVE, index),
        Route(links.ARCHIVE + "/", index),
        Route(links.ARCHIVE_FEED, atom),
        Route(links.ARCHIVE_ISSUE_ROUTE, one),
    ]
