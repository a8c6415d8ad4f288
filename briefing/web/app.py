"""The web app: the public pages (subscribe with double opt-in, confirm, unsubscribe with
RFC 8058 one-click, preferences, the archive and its Atom feed) and the editor's desk
(/desk, see web/desk.py). Server-rendered with Jinja2; every form carries a CSRF token.

GET on an unsubscribe link only shows a page (mail scanners prefetch links); a POST
unsubscribes, and a POST with ``List-Unsubscribe=One-Click`` needs nothing else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from briefing import subscriptions
from briefing.clock import utcnow
from briefing.config import Settings
from briefing.errors import BriefingError
from briefing.render.env import make_environment
from briefing.subscribers import InvalidAddress
from briefing.web.desk import archive_routes, desk_routes
from briefing.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    RateLimiter,
    SecurityHeaders,
    csrf_ok,
    csrf_token,
)


def create_app(settings: Settings, engine: Engine, *, delivery_url: str | None = None) -> Starlette:
    env = make_environment(
        settings.path(settings.issue.templates) if settings.issue.templates else None
    )
    secrets = settings.secrets()
    limiter = RateLimiter(settings.subscriptions.rate_limit_per_minute)
    topics = [
        {"slug": t.slug, "name": t.name, "description": t.description} for t in settings.topics
    ]
    secure_cookie = settings.newsletter.base_url.startswith("https://")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        token = csrf_token(request)
        body = env.get_template(f"pages/{name}.html.j2").render(
            newsletter=settings.newsletter,
            topics=topics,
            csrf_field=CSRF_FIELD,
            csrf=token,
            consent_text=settings.subscriptions.consent_text,
            **context,
        )
        response = HTMLResponse(body, status_code=status)
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie, path="/"
        )
        return response

    def broken_link(request: Request, kind: str) -> HTMLResponse:
        """A forged, truncated or garbled token (or a forgotten subscriber): 404, nothing changes."""
        return page(
            request,
            "message",
            404,
            title="This link does not work",
            text=f"Use the {kind} link in your latest email.",
        )

    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def home(request: Request) -> Response:
        return page(request, "subscribe")

    async def subscribe(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
            return page(
                request,
                "message",
                403,
                title="Please try again",
                text="This form expired. Reload the page and send it again.",
            )
        allowed, retry = limiter.allow(client(request))
        if not allowed:
            response = page(
                request,
                "message",
                429,
                title="Too many requests",
                text=f"Please wait {retry} seconds and try again.",
            )
            response.headers["Retry-After"] = str(retry)
            return response
        if not form.get("consent"):
            return page(
                request,
                "subscribe",
                400,
                error="Please tick the box to agree.",
                email=form.get("email") or "",
            )
        try:
            sub = await run_in_threadpool(
                subscriptions.request_subscription,
                settings,
                engine,
                str(form.get("email") or ""),
                name=str(form.get("name") or "").strip() or None,
                topics=[str(t) for t in form.getlist("topics")] or None,
                ip=client(request),
                user_agent=request.headers.get("user-agent"),
            )
        except InvalidAddress:
            return page(
                request,
                "subscribe",
                400,
                error="That does not look like an email address.",
                email=form.get("email") or "",
            )
        if sub is not None:
            link = subscriptions.confirmation_link(settings, sub, secrets, utcnow())
            try:
                await run_in_threadpool(
                    subscriptions.send_confirmation, settings, sub, link, url=delivery_url
                )
            except BriefingError:
                return page(
                    request,
                    "message",
                    503,
                    title="Please try again later",
                    text="We could not send the confirmation email just now.",
                )
        # the same answer whether or not the address was already on the list
        return page(
            request,
            "message",
            title="Check your inbox",
            text="If the address can receive mail, a confirmation link is on its way. "
            "You are subscribed once you follow it.",
        )

    async def confirm(request: Request) -> Response:
        sub = await run_in_threadpool(
            subscriptions.confirm, settings, engine, request.path_params["token"], secrets
        )
        if sub is None:
            return page(
                request,
                "message",
                400,
                title="This link does not work",
                text="It may have expired. Subscribe again to get a new one.",
            )
        return page(
            request,
            "message",
            title="You are subscribed",
            text=f"Thank you. {settings.newsletter.name} will reach you at its next issue.",
        )

    async def unsubscribe(request: Request) -> Response:
        token = request.path_params["token"]
        sub = await run_in_threadpool(subscriptions.subscriber_for, engine, token, secrets)
        if sub is None:
            return broken_link(request, "unsubscribe")
        if request.method == "GET":
            return page(
                request,
                "unsubscribe",
                token=token,
                email=sub.email,
                done=sub.status == "unsubscribed",
            )
        form = await request.form()
        from_page = csrf_ok(request, str(form.get(CSRF_FIELD) or ""))
        one_click = form.get("List-Unsubscribe") == "One-Click"
        if not one_click and not from_page:
            return page(
                request,
                "message",
                403,
                title="Please try again",
                text="Reload the page and press the button again.",
            )
        how = "page" if from_page else "one-click"
        await run_in_threadpool(subscriptions.unsubscribe, engine, sub, how=how, actor="link")
        if not from_page:
            return PlainTextResponse("Unsubscribed.\n")  # RFC 8058: the mailbox provider's POST
        return page(request, "unsubscribe", token=token, email=sub.email, done=True)

    async def preferences(request: Request) -> Response:
        token = request.path_params["token"]
        sub = await run_in_threadpool(subscriptions.subscriber_for, engine, token, secrets)
        if sub is None:
            return broken_link(request, "preferences")
        saved = False
        if request.method == "POST":
            form = await request.form()
            if not csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
                return page(
                    request,
                    "message",
                    403,
                    title="Please try again",
                    text="This form expired. Reload the page and save again.",
                )
            if form.get("action") == "unsubscribe":
                await run_in_threadpool(
                    subscriptions.unsubscribe, engine, sub, how="preferences page", actor="link"
                )
                return page(request, "unsubscribe", token=token, email=sub.email, done=True)
            sub = await run_in_threadpool(
                subscriptions.set_preferences,
                engine,
                sub,
                topics=[str(t) for t in form.getlist("topics")],
                paused=bool(form.get("paused")),
                known=[t["slug"] for t in topics],
            )
            saved = True
        chosen = set(sub.topics) if sub.topics is not None else {t["slug"] for t in topics}
        return page(request, "preferences", token=token, sub=sub, chosen=chosen, saved=saved)

    async def generic(request: Request) -> Response:
        return page(
            request,
            "message",
            title="Use the link in your email",
            text="Every issue ends with your own unsubscribe and preferences links.",
        )

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/subscribe", subscribe, methods=["POST"]),
            Route("/confirm/{token}", confirm),
            Route("/u/{token}", unsubscribe, methods=["GET", "POST"]),
            Route("/p/{token}", preferences, methods=["GET", "POST"]),
            Route("/unsubscribe", generic),
            Route("/preferences", generic),
            Route("/healthz", health),
            *desk_routes(
                settings, engine, page, secure_cookie=secure_cookie, delivery_url=delivery_url
            ),
            *archive_routes(settings, engine, page),
        ]
    )
    app.add_middleware(SecurityHeaders, hsts=secure_cookie)
    return app
