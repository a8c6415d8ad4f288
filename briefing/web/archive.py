"""The public archive: /archive (the sent issues, newest first), /archive/N (one sent
issue's web version) and /archive.atom (their Atom feed). Only issues that were sent are
published. The handlers are plain functions: Starlette runs them in its thread pool, so
the database and the rendering never block the event loop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from briefing import links
from briefing.clock import utcnow
from briefing.config import Settings
from briefing.render import render_web
from briefing.render.env import make_environment, render_template
from briefing.services import issues as editorial
from briefing.services import lookup

FEED_LIMIT = 50  # entries in the Atom feed


def archive_routes(
    settings: Settings, engine: Engine, page: Callable[..., HTMLResponse]
) -> list[Route]:
    def templates_dir() -> Path | None:
        return settings.path(settings.issue.templates) if settings.issue.templates else None

    def index(request: Request) -> Response:
        found = lookup.sent_issues(engine)
        return page(request, "archive", issues=found, feed_url=links.ARCHIVE_FEED)

    def one(request: Request) -> Response:
        ref = links.issue_number(request.path_params["issue_id"])
        issue = lookup.sent_issue(engine, ref) if ref is not None else None
        if issue is None:
            return page(
                request,
                "message",
                404,
                title="No such issue in the archive",
                text="Only issues that were sent are published here.",
            )
        view = editorial.view(settings, engine, issue)
        body = render_web(view, settings, now=issue.sent_at or utcnow(), templates=templates_dir())
        return HTMLResponse(body)

    def atom(request: Request) -> Response:
        found = lookup.sent_issues(engine)
        env = make_environment(templates_dir())
        base = settings.newsletter.base_url
        entries = []
        for issue in found[:FEED_LIMIT]:
            view = editorial.view(settings, engine, issue)
            entries.append(
                {
                    "issue": issue,
                    "url": links.archive_url(base, issue.id),
                    "stories": view.stories,
                    "ai": any(a.ai_generated for a in view.articles),
                }
            )
        updated: datetime = max((i.sent_at for i in found if i.sent_at), default=utcnow())
        body = render_template(
            env,
            "web/archive.atom.j2",
            templates_dir(),
            newsletter=settings.newsletter,
            entries=entries,
            updated=updated,
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    return [
        Route(links.ARCHIVE, index),
        Route(links.ARCHIVE + "/", index),
        Route(links.ARCHIVE_FEED, atom),
        Route(links.ARCHIVE_ISSUE_ROUTE, one),
    ]
