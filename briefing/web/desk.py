"""The editor's desk (/desk, behind a sign-in). Server-rendered; every form carries the
CSRF token (bound to the session); each control posts, changes the issue and comes back
to the page (post/redirect/get), which shows the email again as subscribers get it, and
the control's one-time message, kept in the session (never taken from the URL, so a link
cannot make the desk say anything). The article pages are in web/desk_articles.py, the
link check in web/linkcheck.py.

Sign-in is limited per client address and per account (briefing.services.signins), and every
attempt within the client's limit is recorded. The link check follows only public addresses unless
fetch.allow_private_addresses is set (briefing.sources.addresses).

Why one module of 400-odd lines: it is the ``Desk`` class, one small method per route of
the issue pages, sharing the session, CSRF and message handling; the article pages and the
link check are already apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from briefing import links
from briefing.config import Settings
from briefing.errors import BriefingError, NotFoundError
from briefing.models import Issue
from briefing.render.lint import Finding
from briefing.services import accounts as editors
from briefing.services import issues as editorial
from briefing.services import lookup, signins
from briefing.services import preview as previews
from briefing.sources.addresses import AddressPolicy
from briefing.web.desk_articles import article_routes
from briefing.web.linkcheck import check_links
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
issue_number = links.issue_number  # kept importable from here


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


class Desk:
    """The desk's pages and controls; ``routes()`` gives them to the app."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        page: Callable[..., HTMLResponse],
        *,
        csrf: Csrf,
        session_cookie: str,
        secure_cookie: bool,
        client: Callable[[Request], str],
        delivery_url: str | None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.page = page
        self.csrf = csrf
        self.session_cookie = session_cookie
        self.secure_cookie = secure_cookie
        self.client = client
        self.delivery_url = delivery_url
        self.login_limit = RateLimiter(10)  # attempts per client per minute
        # the last link check of each issue, with the issue's version it was made on
        self.link_results: dict[int, tuple[datetime, list[dict[str, Any]]]] = {}
        self.policy = AddressPolicy.from_settings(settings.fetch)

    def routes(self) -> list[Route]:
        return [
            Route("/desk", self.home),
            Route("/desk/", self.home),
            Route("/desk/login", self.login, methods=["GET", "POST"]),
            Route("/desk/logout", self.logout, methods=["POST"]),
            Route("/desk/issues/{issue_id}", self.issue_page),
            Route("/desk/issues/{issue_id}/email.html", self.email_html),
            Route("/desk/issues/{issue_id}/{action}", self.act, methods=["POST"]),
            *article_routes(
                self.settings,
                self.engine,
                self.desk_page,
                csrf=self.csrf,
                who=self.who,
                session=self.session,
            ),
        ]

    # --- helpers ----------------------------------------------------------------------------

    def session(self, request: Request) -> str | None:
        return request.cookies.get(self.session_cookie)

    def who(self, request: Request) -> editors.Editor | None:
        return editors.session_editor(self.engine, self.session(request))

    def to_login(self, request: Request) -> Response:
        target = request.url.path
        if request.method == "POST" and "issue_id" in request.path_params:
            target = f"/desk/issues/{request.path_params['issue_id']}"  # back to the page
        return RedirectResponse(f"/desk/login?next={quote(target)}", status_code=303)

    def links_for(self, issue: Issue) -> list[dict[str, Any]] | None:
        kept = self.link_results.get(issue.id)
        return kept[1] if kept is not None and kept[0] == issue.updated_at else None

    def desk_page(
        self, request: Request, name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        response = self.page(request, name, status, **context)
        response.headers["Content-Security-Policy"] = DESK_CSP
        return response

    def load_issue(self, request: Request) -> Issue:
        ref = links.issue_number(request.path_params["issue_id"])
        if ref is None:
            raise NotFoundError("no such issue")
        return lookup.issue(self.engine, ref)

    async def flash(self, request: Request, kind: str, text: str) -> None:
        await run_in_threadpool(editors.set_flash, self.engine, self.session(request), kind, text)

    # --- signing in and out -------------------------------------------------------------------

    def login_page(self, request: Request, nxt: str, status: int = 200, **context: Any) -> Response:
        return self.desk_page(request, "desk/login", status, next=nxt, editor=None, **context)

    async def login(self, request: Request) -> Response:
        nxt = request.query_params.get("next", "/desk")
        if not nxt.startswith("/desk"):
            nxt = "/desk"
        if request.method == "GET":
            return self.login_page(request, nxt)
        form = await read_form(request)
        if not self.csrf.ok(request, form.get(CSRF_FIELD)):
            return self.login_page(
                request, nxt, 403, error="The form expired. Please sign in again."
            )
        address = self.client(request)
        agent = request.headers.get("user-agent")
        email = str(form.get("email") or "")
        allowed, retry = self.login_limit.allow(client_key(address))
        if allowed:  # this client is under its limit; is the account?
            retry = await run_in_threadpool(signins.wait_seconds, self.engine, email, address)
            allowed = retry == 0
            if not allowed:
                await run_in_threadpool(
                    signins.record, self.engine, email, "throttled", ip=address, user_agent=agent
                )
        if not allowed:
            response = self.login_page(
                request, nxt, 429, error=f"Too many attempts. Try again in {retry} seconds."
            )
            response.headers["Retry-After"] = str(retry)
            return response
        editor = await run_in_threadpool(
            editors.authenticate, self.engine, email, str(form.get("password") or "")
        )
        await run_in_threadpool(
            signins.record,
            self.engine,
            email,
            "failed" if editor is None else "signed_in",
            ip=address,
            user_agent=agent,
        )
        if editor is None:
            return self.login_page(
                request,
                nxt,
                401,
                email=email,
                error="That email and password do not match an editor.",
            )
        token = editors.start_session(self.engine, editor)
        done = RedirectResponse(nxt, status_code=303)
        done.set_cookie(
            self.session_cookie,
            token,
            max_age=editors.SESSION_HOURS * 3600,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookie,
            path="/",
        )
        return done

    async def logout(self, request: Request) -> Response:
        form = await read_form(request)
        if not self.csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        editors.end_session(self.engine, self.session(request))
        response = RedirectResponse("/desk/login", status_code=303)
        response.delete_cookie(
            self.session_cookie, path="/", secure=self.secure_cookie, httponly=True
        )
        return response

    # --- pages ----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        editor = self.who(request)
        if editor is None:
            return self.to_login(request)
        drafts = await run_in_threadpool(lookup.open_issues, self.engine)
        history = await run_in_threadpool(lookup.history, self.engine)
        return self.desk_page(request, "desk/home", editor=editor, drafts=drafts, history=history)

    async def issue_page(self, request: Request) -> Response:
        editor = self.who(request)
        if editor is None:
            return self.to_login(request)
        try:
            issue = self.load_issue(request)
        except NotFoundError:
            return self.desk_page(request, "message", 404, title="No such issue", text="")
        preview = await run_in_threadpool(build_preview, self.settings, self.engine, issue)
        events = await run_in_threadpool(lookup.issue_events, self.engine, issue.id)
        # the banner is what the last control said, once; ?done= and ?problem= in the URL
        # only mark the redirect and are never shown
        said = (
            None
            if is_head(request)  # a HEAD (a prefetch) must not use the message up
            else await run_in_threadpool(editors.take_flash, self.engine, self.session(request))
        )
        return self.desk_page(
            request,
            "desk/issue",
            editor=editor,
            issue=issue,
            preview=preview,
            events=events[-12:][::-1],
            links=self.links_for(issue),
            flash=said[1] if said and said[0] == "done" else None,
            problem=said[1] if said and said[0] == "problem" else None,
            editable=issue.state in ("draft", "approved"),
        )

    async def email_html(self, request: Request) -> Response:
        if self.who(request) is None:
            return Response("sign in first", status_code=401)
        try:
            issue = self.load_issue(request)
        except NotFoundError:
            return Response("no such issue", status_code=404)
        built = await run_in_threadpool(previews.build, self.settings, self.engine, issue)
        response = HTMLResponse(built.html)
        response.headers["Content-Security-Policy"] = FRAME_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    # --- the controls -----------------------------------------------------------------------

    async def act(self, request: Request) -> Response:
        """Every control: exclude, restore, up, down, edit, proof, approve, links."""
        editor = self.who(request)
        if editor is None:
            return self.to_login(request)
        form = await read_form(request)
        if not self.csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        try:
            issue = self.load_issue(request)
        except NotFoundError:
            return Response("no such issue", status_code=404)
        action = request.path_params["action"]
        back = f"/desk/issues/{issue.id}"
        try:
            done = await run_in_threadpool(self.apply, action, issue, form, editor)
        except BriefingError as exc:
            await self.flash(request, "problem", exc.message)
            return RedirectResponse(f"{back}?problem={quote(exc.message)}", status_code=303)
        if action == "links":
            done = await self.check_links(request, issue)
        await self.flash(request, "done", done)
        return RedirectResponse(f"{back}?done={quote(done)}#top", status_code=303)

    async def check_links(self, request: Request, issue: Issue) -> str:
        built = await run_in_threadpool(previews.build, self.settings, self.engine, issue)
        base = self.settings.newsletter.base_url
        found = await check_links(
            built.html,
            skip=(
                base + links.UNSUBSCRIBE_PREFIX,
                base + links.PREFERENCES_PREFIX,
                links.archive_url(base, issue.id),
            ),
            policy=self.policy,
        )
        # kept with the issue's version: an edit makes them stale, and they go
        current = self.load_issue(request)
        self.link_results[issue.id] = (current.updated_at, found)
        bad = sum(not r["ok"] for r in found)
        return f"checked {len(found)} links: {bad} do not answer"

    def apply(self, action: str, issue: Issue, form: FormData, editor: editors.Editor) -> str:
        """A control's change (run in the thread pool); what the banner says."""
        key = str(form.get("story") or "")
        by = editor.label
        settings, engine = self.settings, self.engine
        if action == "exclude":
            editorial.edit(settings, engine, issue.id, actor=by, exclude=[key])
            return "story excluded"
        if action == "restore":
            editorial.edit(settings, engine, issue.id, actor=by, restore=[key])
            return "story restored"
        if action in ("up", "down"):
            editorial.edit(settings, engine, issue.id, actor=by, order=moved(issue, key, action))
            return "story moved " + action
        if action == "edit":
            return self.edit(issue, form, by)
        if action == "proof":
            from briefing.services import send as sending

            address = sending.send_test(
                settings, engine, issue, editor.email, transport=self.delivery_url
            )
            return f"proof sent to {address}"
        if action == "approve":
            editorial.approve(engine, issue.id, by=by)
            return "approved"
        if action == "links":
            return ""
        raise NotFoundError(f"unknown action {action!r}")

    def edit(self, issue: Issue, form: FormData, by: str) -> str:
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
            k: v for k, v in changes.items() if " ".join(v.split()) != " ".join(current[k].split())
        }
        if not wanted:
            return "nothing changed"
        editorial.edit(
            self.settings,
            self.engine,
            issue.id,
            actor=by,
            subject=wanted.get("subject"),
            preheader=wanted.get("preheader"),
            note=wanted.get("note"),
        )
        return "saved"


def moved(issue: Issue, key: str, action: str) -> list[str]:
    """The issue's story order with ``key`` one place up or down, within its topic."""
    keys = [s.key for s in issue.stories]
    topic = {s.key: s.topic for s in issue.stories}
    if key not in keys:
        raise NotFoundError("no such story in this issue")
    i = keys.index(key)
    j = i - 1 if action == "up" else i + 1
    if not 0 <= j < len(keys) or topic[keys[j]] != topic[key]:
        raise BriefingError("the story is already at the edge of its topic")
    keys[i], keys[j] = keys[j], keys[i]
    return keys


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
    return Desk(
        settings,
        engine,
        page,
        csrf=csrf,
        session_cookie=session_cookie,
        secure_cookie=secure_cookie,
        client=client,
        delivery_url=delivery_url,
    ).routes()
