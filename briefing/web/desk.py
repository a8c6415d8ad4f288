"""The editor's desk (/desk, behind a sign-in) and the public archive (/archive, its Atom
feed). Server-rendered; every form carries the CSRF token (bound to the session); each
control posts, changes the issue and comes back to the page (post/redirect/get), which
shows the email again as subscribers get it, and the control's one-time message, kept in
the session (never taken from the URL, so a link cannot make the desk say anything).

Sign-in is limited per client address and per account (briefing.services.signins), and every
attempt within the client's limit is recorded. The link check follows only public addresses unless
fetch.allow_private_addresses is set (briefing.sources.addresses).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from briefing import links
from briefing.clock import utcnow
from briefing.config import Settings
from briefing.errors import BriefingError, NotFoundError
from briefing.models import Issue
from briefing.render import render_web
from briefing.render.lint import Finding
from briefing.services import accounts as editors
from briefing.services import issues as editorial
from briefing.services import lookup, signins
from briefing.services import preview as previews
from briefing.sources.addresses import AddressPolicy, AddressRefused
from briefing.web.desk_articles import article_routes
from briefing.web.security import (
    CSRF_FIELD,
    Csrf,
    RateLimiter,
    client_key,
    is_head,
    read_form,
)

SESSION_COOKIE = "briefing_desk"  # "__Host-briefing_desk" when the site is https
# the email preview is framed by the desk page (same origin only)
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
DESK_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def issue_number(text: str) -> int | None:
    """An issue number from a path: plain ASCII digits that fit the database (no "+1",
    "1_0", other scripts' digits or 20-digit numbers); None for anything else (a 404)."""
    return int(text) if re.fullmatch(r"[0-9]{1,15}", text) else None


@dataclass(frozen=True)
class Preview:
    issue: Issue
    html: str
    text: str
    findings: list[Finding]
    stories: list[dict[str, Any]]


def build_preview(settings: Settings, engine: Engine, issue: Issue) -> Preview:
    """The email as the sample reader gets it (clicking in the preview must not
    unsubscribe anyone), its checks and its stories."""
    built = previews.build(settings, engine, issue, reader="sample")
    view = built.view
    by_key = {s.key: s for s in view.stories}
    names = {t.slug: t.name for t in settings.topics}
    stories = []
    for s in issue.stories:
        story = by_key.get(s.key)
        stories.append(
            {
                "key": s.key,
                "short": s.key[:8],
                "topic": names.get(s.topic, s.topic),
                "topic_slug": s.topic,
                "excluded": s.excluded,
                "title": story.lead.title if story else (s.title or s.key[:8]),
                "publisher": story.lead.publisher if story else None,
                "ai": bool(story and any(a.ai_generated for a in story.articles)),
                "sources": len(story.articles) if story else len(s.article_ids),
                "article": s.article_ids[0] if s.article_ids else None,
                # what ingest is not sure of, article by article: "title uncertain"
                "uncertain": [
                    {"article": a.id, "field": f, "confidence": a.confidence[f].value}
                    for a in (story.articles if story else ())
                    for f in a.uncertain()
                ],
            }
        )
    return Preview(issue, built.html, built.text, built.findings, stories)


async def check_links(
    html: str,
    *,
    skip: tuple[str, ...] = (),
    timeout: float = 5.0,
    policy: AddressPolicy | None = None,
) -> list[dict[str, Any]]:
    """Each distinct http(s) link of the email and whether it answers (HEAD, then GET).
    ``skip``: prefixes not to check (the reader's own links, the issue's archive page,
    which exists only once it is sent). The links come from feeds: ``policy`` (by
    default, public addresses only) decides where they may lead, redirects included."""
    import html as html_lib
    import re

    import httpx

    found = re.findall(r"""href=(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", html)
    urls = sorted(
        {
            u
            for u in (
                html_lib.unescape(next(g for g in groups if g) if any(groups) else "")
                for groups in found
            )
            if u.startswith(("http://", "https://")) and not u.startswith(skip)
        }
    )
    limit = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        async with limit:
            try:
                r = await client.head(url)
                if r.status_code in (405, 403, 501):
                    r = await client.get(url)
                ok = r.status_code < 400
                return {"url": url, "ok": ok, "status": r.status_code, "error": None}
            except httpx.HTTPError as exc:
                return {"url": url, "ok": False, "status": None, "error": type(exc).__name__}
            except httpx.InvalidURL:  # not an HTTPError: a feed's "http://0177.0.0.1/"
                return {"url": url, "ok": False, "status": None, "error": "not a valid URL"}
            except AddressRefused as exc:
                return {"url": url, "ok": False, "status": None, "error": exc.reason}

    async with (policy or AddressPolicy()).async_client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": "Briefing link check"},
    ) as client:
        return list(await asyncio.gather(*(one(client, u) for u in urls)))


def desk_routes(
    settings: Settings,
    engine: Engine,
    page: Callable[..., HTMLResponse],
    *,
    csrf: Csrf,
    session_cookie: str,
    secure_cookie: bool,
    client: Callable[[Request], str],
    delivery_url: str | None,
) -> list[Route]:
    login_limit = RateLimiter(10)  # attempts per client per minute
    link_results: dict[int, tuple[datetime, list[dict[str, Any]]]] = {}
    policy = AddressPolicy.from_settings(settings.fetch)

    def session(request: Request) -> str | None:
        return request.cookies.get(session_cookie)

    def who(request: Request) -> editors.Editor | None:
        return editors.session_editor(engine, session(request))

    def to_login(request: Request) -> Response:
        target = request.url.path
        if request.method == "POST" and "issue_id" in request.path_params:
            target = f"/desk/issues/{request.path_params['issue_id']}"  # back to the page
        return RedirectResponse(f"/desk/login?next={quote(target)}", status_code=303)

    def _links_for(issue: Issue) -> list[dict[str, Any]] | None:
        kept = link_results.get(issue.id)
        return kept[1] if kept is not None and kept[0] == issue.updated_at else None

    def desk_page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        response = page(request, name, status, **context)
        response.headers["Content-Security-Policy"] = DESK_CSP
        return response

    async def login(request: Request) -> Response:
        nxt = request.query_params.get("next", "/desk")
        if not nxt.startswith("/desk"):
            nxt = "/desk"
        if request.method == "GET":
            return desk_page(request, "desk/login", next=nxt, editor=None)
        form = await read_form(request)
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return desk_page(
                request,
                "desk/login",
                403,
                next=nxt,
                editor=None,
                error="The form expired. Please sign in again.",
            )
        address = client(request)
        agent = request.headers.get("user-agent")
        email = str(form.get("email") or "")
        allowed, retry = login_limit.allow(client_key(address))
        if allowed:  # this client is under its limit; is the account?
            retry = await run_in_threadpool(signins.wait_seconds, engine, email, address)
            allowed = retry == 0
            if not allowed:
                await run_in_threadpool(
                    signins.record, engine, email, "throttled", ip=address, user_agent=agent
                )
        if not allowed:
            response = desk_page(
                request,
                "desk/login",
                429,
                next=nxt,
                editor=None,
                error=f"Too many attempts. Try again in {retry} seconds.",
            )
            response.headers["Retry-After"] = str(retry)
            return response
        editor = await run_in_threadpool(
            editors.authenticate, engine, email, str(form.get("password") or "")
        )
        await run_in_threadpool(
            signins.record,
            engine,
            email,
            "failed" if editor is None else "signed_in",
            ip=address,
            user_agent=agent,
        )
        if editor is None:
            return desk_page(
                request,
                "desk/login",
                401,
                next=nxt,
                editor=None,
                email=email,
                error="That email and password do not match an editor.",
            )
        token = editors.start_session(engine, editor)
        done = RedirectResponse(nxt, status_code=303)
        done.set_cookie(
            session_cookie,
            token,
            max_age=editors.SESSION_HOURS * 3600,
            httponly=True,
            samesite="lax",
            secure=secure_cookie,
            path="/",
        )
        return done

    async def logout(request: Request) -> Response:
        form = await read_form(request)
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        editors.end_session(engine, session(request))
        response = RedirectResponse("/desk/login", status_code=303)
        response.delete_cookie(session_cookie, path="/", secure=secure_cookie, httponly=True)
        return response

    async def home(request: Request) -> Response:
        editor = who(request)
        if editor is None:
            return to_login(request)
        drafts = lookup.open_issues(engine)
        return desk_page(
            request, "desk/home", editor=editor, drafts=drafts, history=lookup.history(engine)
        )

    def load_issue(request: Request) -> Issue:
        ref = issue_number(request.path_params["issue_id"])
        if ref is None:
            raise NotFoundError("no such issue")
        return lookup.issue(engine, ref)

    async def issue_page(request: Request) -> Response:
        editor = who(request)
        if editor is None:
            return to_login(request)
        try:
            issue = load_issue(request)
        except NotFoundError:
            return desk_page(request, "message", 404, title="No such issue", text="")
        preview = await run_in_threadpool(build_preview, settings, engine, issue)
        events = lookup.issue_events(engine, issue.id)
        # the banner is what the last control said, once; ?done= and ?problem= in the URL
        # only mark the redirect and are never shown
        said = (
            None
            if is_head(request)  # a HEAD (a prefetch) must not use the message up
            else await run_in_threadpool(editors.take_flash, engine, session(request))
        )
        return desk_page(
            request,
            "desk/issue",
            editor=editor,
            issue=issue,
            preview=preview,
            events=events[-12:][::-1],
            links=_links_for(issue),
            flash=said[1] if said and said[0] == "done" else None,
            problem=said[1] if said and said[0] == "problem" else None,
            editable=issue.state in ("draft", "approved"),
        )

    async def email_html(request: Request) -> Response:
        if who(request) is None:
            return Response("sign in first", status_code=401)
        try:
            issue = load_issue(request)
        except NotFoundError:
            return Response("no such issue", status_code=404)
        built = await run_in_threadpool(previews.build, settings, engine, issue)
        response = HTMLResponse(built.html)
        response.headers["Content-Security-Policy"] = FRAME_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    async def act(request: Request) -> Response:
        """Every control: exclude, restore, up, down, edit, proof, approve, links."""
        editor = who(request)
        if editor is None:
            return to_login(request)
        form = await read_form(request)
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        try:
            issue = load_issue(request)
        except NotFoundError:
            return Response("no such issue", status_code=404)
        action = request.path_params["action"]
        back = f"/desk/issues/{issue.id}"
        by = editor.label
        try:
            done = await run_in_threadpool(_apply, action, issue, form, by, editor)
        except BriefingError as exc:
            await run_in_threadpool(
                editors.set_flash, engine, session(request), "problem", exc.message
            )
            return RedirectResponse(f"{back}?problem={quote(exc.message)}", status_code=303)
        if action == "links":
            built = await run_in_threadpool(previews.build, settings, engine, issue)
            base = settings.newsletter.base_url
            found = await check_links(
                built.html,
                skip=(
                    base + links.UNSUBSCRIBE_PREFIX,
                    base + links.PREFERENCES_PREFIX,
                    links.archive_url(base, issue.id),
                ),
                policy=policy,
            )
            # kept with the issue's version: an edit makes them stale, and they go
            current = load_issue(request)
            link_results[issue.id] = (current.updated_at, found)
            bad = sum(not r["ok"] for r in found)
            done = f"checked {len(found)} links: {bad} do not answer"
        await run_in_threadpool(editors.set_flash, engine, session(request), "done", done)
        return RedirectResponse(f"{back}?done={quote(done)}#top", status_code=303)

    def _apply(action: str, issue: Issue, form: Any, by: str, editor: editors.Editor) -> str:
        key = str(form.get("story") or "")
        if action == "exclude":
            editorial.edit(settings, engine, issue.id, actor=by, exclude=[key])
            return "story excluded"
        if action == "restore":
            editorial.edit(settings, engine, issue.id, actor=by, restore=[key])
            return "story restored"
        if action in ("up", "down"):
            keys = [s.key for s in issue.stories]
            topic = {s.key: s.topic for s in issue.stories}
            if key not in keys:
                raise NotFoundError("no such story in this issue")
            i = keys.index(key)
            j = i - 1 if action == "up" else i + 1
            if not 0 <= j < len(keys) or topic[keys[j]] != topic[key]:
                raise BriefingError("the story is already at the edge of its topic")
            keys[i], keys[j] = keys[j], keys[i]
            editorial.edit(settings, engine, issue.id, actor=by, order=keys)
            return "story moved " + action
        if action == "edit":
            changes = {
                "subject": str(form.get("subject") or ""),
                "preheader": str(form.get("preheader") or ""),
                "note": str(form.get("note") or ""),
            }
            current = {
                "subject": issue.subject,
                "preheader": issue.preheader,
                "note": issue.editor_note or "",
            }
            wanted = {
                k: v
                for k, v in changes.items()
                if " ".join(v.split()) != " ".join(current[k].split())
            }
            if not wanted:
                return "nothing changed"
            editorial.edit(
                settings,
                engine,
                issue.id,
                actor=by,
                subject=wanted.get("subject"),
                preheader=wanted.get("preheader"),
                note=wanted.get("note"),
            )
            return "saved"
        if action == "proof":
            from briefing.services import send as sending

            address = sending.send_test(
                settings, engine, issue, editor.email, transport=delivery_url
            )
            return f"proof sent to {address}"
        if action == "approve":
            editorial.approve(engine, issue.id, by=by)
            return "approved"
        if action == "links":
            return ""
        raise NotFoundError(f"unknown action {action!r}")

    return [
        Route("/desk", home),
        Route("/desk/", home),
        Route("/desk/login", login, methods=["GET", "POST"]),
        Route("/desk/logout", logout, methods=["POST"]),
        Route("/desk/issues/{issue_id}", issue_page),
        Route("/desk/issues/{issue_id}/email.html", email_html),
        Route("/desk/issues/{issue_id}/{action}", act, methods=["POST"]),
        *article_routes(settings, engine, desk_page, csrf=csrf, who=who, session=session),
    ]


def archive_routes(
    settings: Settings, engine: Engine, page: Callable[..., HTMLResponse]
) -> list[Route]:
    def templates_dir() -> Any:
        return settings.path(settings.issue.templates) if settings.issue.templates else None

    async def index(request: Request) -> Response:
        found = await run_in_threadpool(lookup.sent_issues, engine)
        return page(request, "archive", issues=found, feed_url="/archive.atom")

    async def one(request: Request) -> Response:
        ref = issue_number(request.path_params["issue_id"])
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

    async def atom(request: Request) -> Response:
        from briefing.render.env import make_environment, render_template

        found = await run_in_threadpool(lookup.sent_issues, engine)
        env = make_environment(templates_dir())
        entries = []
        for issue in found[:50]:
            view = editorial.view(settings, engine, issue)
            entries.append(
                {
                    "issue": issue,
                    "url": f"{settings.newsletter.base_url}/archive/{issue.id}",
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
        Route("/archive", index),
        Route("/archive/", index),
        Route("/archive.atom", atom),
        Route("/archive/{issue_id}", one),
    ]
