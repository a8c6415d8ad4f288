"""The web app: the public pages (subscribe with double opt-in, confirm, unsubscribe with
RFC 8058 one-click, preferences), put together with the public archive and its Atom feed
(web/archive.py) and the editor's desk (/desk, web/desk.py). Server-rendered with Jinja2;
every form carries a CSRF token. The links' shapes are briefing.links'.

Links in emails only ever show a page on GET (mail scanners prefetch links): the
unsubscribe and confirmation links change state on POST only, and a POST with
``List-Unsubscribe=One-Click`` needs nothing else. HEAD is answered as GET everywhere.

Subscribing only records the request: a background worker (briefing.services.confirmations)
applies it and sends the confirmation, so the answer is the same, in content and in
time, for any address, and no mail server is waited for.

Every request goes through (outermost first): the trusted proxy's X-Forwarded-For
(``web.forwarded_allow_ips``), the security headers, HEAD-as-GET, and the body limits
(``web.max_body_bytes``, ``web.body_timeout``). Errors are styled pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from briefing import links
from briefing.config import Settings
from briefing.email_address import SUPPRESSED, InvalidAddress, normalize_email
from briefing.render.env import make_environment, render_template
from briefing.services import confirmations, subscriptions
from briefing.web.archive import archive_routes
from briefing.web.batch import GroupCommit
from briefing.web.desk import SESSION_COOKIE, Desk
from briefing.web.desk_articles import PASTE_PATH
from briefing.web.security import (
    CSRF_FIELD,
    Csrf,
    HeadAsGet,
    RateLimiter,
    RequestLimits,
    SecurityHeaders,
    add_security_headers,
    client_key,
    cookie_name,
    read_form,
)

ERRORS = {
    400: ("Something in the form is not right", "Go back, check the form and send it again."),
    404: (
        "Page not found",
        "There is nothing at this address. Check the link, or start from the home page.",
    ),
    405: ("Not allowed here", "This address does not take that kind of request."),
    408: ("That took too long", "The request did not arrive in time. Please send it again."),
    413: ("That is too large", "The form sent more than this site accepts. Please shorten it."),
    500: (
        "Something went wrong",
        "This is our fault, not yours. Please try again in a few minutes.",
    ),
}


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    delivery_url: str | None = None,
    mail_retry_seconds: float = 60.0,
) -> Starlette:
    own_templates = settings.path(settings.issue.templates) if settings.issue.templates else None
    env = make_environment(own_templates)
    secrets = settings.secrets()
    # one-click unsubscribes arriving together are stored together (web/batch.py)
    clicks: GroupCommit[str, subscriptions.Click | None] = GroupCommit(
        lambda tokens: subscriptions.unsubscribe_clicks(engine, tokens, secrets)
    )
    limiter = RateLimiter(settings.subscriptions.rate_limit_per_minute)
    topics = [
        {"slug": t.slug, "name": t.name, "description": t.description} for t in settings.topics
    ]
    secure_cookie = settings.newsletter.base_url.startswith("https://")
    session_cookie = cookie_name(SESSION_COOKIE, secure_cookie)
    csrf = Csrf(secrets, secure=secure_cookie, session_cookie=session_cookie)
    worker = confirmations.ConfirmationWorker(
        settings, engine, secrets, delivery_url=delivery_url, retry_seconds=mail_retry_seconds
    )

    def render(name: str, csrf_value: str, **context: Any) -> str:
        return render_template(
            env,
            f"pages/{name}.html.j2",
            own_templates,
            newsletter=settings.newsletter,
            topics=topics,
            csrf_field=CSRF_FIELD,
            csrf=csrf_value,
            consent_text=settings.subscriptions.consent_text,
            **context,
        )

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        cookie, form_token = csrf.issue(request)
        response = HTMLResponse(render(name, form_token, **context), status_code=status)
        csrf.set_cookie(response, cookie)
        return response

    def message(request: Request, status: int, title: str, text: str) -> HTMLResponse:
        return page(request, "message", status, title=title, text=text)

    def broken_link(request: Request, kind: str) -> HTMLResponse:
        """A forged, truncated or garbled token (or a forgotten subscriber): 404, nothing changes."""
        return message(
            request, 404, "This link does not work", f"Use the {kind} link in your latest email."
        )

    def client(request: Request) -> str:
        """The client's address: the connection's, or, behind a trusted proxy (and only
        then), the one its X-Forwarded-For names (uvicorn's ProxyHeadersMiddleware)."""
        return request.client.host if request.client else "unknown"

    async def home(request: Request) -> Response:
        return page(request, "subscribe")

    async def subscribe(request: Request) -> Response:
        form = await read_form(request)
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return message(
                request,
                403,
                "Please try again",
                "This form expired. Reload the page and send it again.",
            )
        allowed, retry = limiter.allow(client_key(client(request)))
        if not allowed:
            response = message(
                request, 429, "Too many requests", f"Please wait {retry} seconds and try again."
            )
            response.headers["Retry-After"] = str(retry)
            return response
        email = str(form.get("email") or "")
        if not form.get("consent"):
            return page(
                request, "subscribe", 400, error="Please tick the box to agree.", email=email
            )
        try:
            address = normalize_email(email)  # the syntax only: the same work for any address
        except InvalidAddress:
            return page(
                request,
                "subscribe",
                400,
                error="That does not look like an email address.",
                email=email,
            )
        # recorded, not applied: the worker looks the address up and sends the mail
        await run_in_threadpool(
            confirmations.enqueue,
            engine,
            email=address,
            name=str(form.get("name") or "").strip() or None,
            topics=[str(t) for t in form.getlist("topics")] or None,
            ip=client(request),
            user_agent=request.headers.get("user-agent"),
        )
        worker.wake()
        # the same answer whether or not the address was already on the list
        return message(
            request,
            200,
            "Check your inbox",
            "If the address can receive mail, a confirmation link is on its way. "
            "You are subscribed once you follow it.",
        )

    async def confirm(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            form = await read_form(request)
            if not csrf.ok(request, form.get(CSRF_FIELD)):
                return message(
                    request, 403, "Please try again", "Reload the page and press the button again."
                )
        # GET (and HEAD) only show what the button would do: mail scanners fetch links
        sub = await run_in_threadpool(
            subscriptions.confirm,
            settings,
            engine,
            token,
            secrets,
            apply=request.method == "POST",
        )
        if sub is None:
            return message(
                request,
                400,
                "This link does not work",
                "It may have expired. Subscribe again to get a new one.",
            )
        if sub.status != "active":
            return page(request, "confirm", token=token, email=sub.email)
        return message(
            request,
            200,
            "You are subscribed",
            f"Thank you. {settings.newsletter.name} will reach you at its next issue.",
        )

    async def unsubscribe(request: Request) -> Response:
        token = request.path_params["token"]
        form = await read_form(request) if request.method == "POST" else None
        if (
            form is not None
            and form.get("List-Unsubscribe") == "One-Click"
            and not csrf.ok(request, form.get(CSRF_FIELD))
        ):  # RFC 8058: the mailbox provider's POST, stored with the others arriving now
            if await clicks.submit(token) is None:
                return broken_link(request, "unsubscribe")
            return PlainTextResponse("Unsubscribed.\n")
        sub = await run_in_threadpool(subscriptions.subscriber_for, engine, token, secrets)
        if sub is None:
            return broken_link(request, "unsubscribe")
        if form is None:  # GET (and HEAD): the page with its button
            return page(
                request,
                "unsubscribe",
                token=token,
                email=sub.email,
                done=sub.status == "unsubscribed",
            )
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return message(
                request, 403, "Please try again", "Reload the page and press the button again."
            )
        if sub.status not in SUPPRESSED:  # else nothing to change (a repeated click)
            await run_in_threadpool(
                subscriptions.unsubscribe, engine, sub, how="page", actor="link"
            )
        return page(request, "unsubscribe", token=token, email=sub.email, done=True)

    async def preferences(request: Request) -> Response:
        token = request.path_params["token"]
        sub = await run_in_threadpool(subscriptions.subscriber_for, engine, token, secrets)
        if sub is None:
            return broken_link(request, "preferences")
        saved = False
        if request.method == "POST":
            form = await read_form(request)
            if not csrf.ok(request, form.get(CSRF_FIELD)):
                return message(
                    request,
                    403,
                    "Please try again",
                    "This form expired. Reload the page and save again.",
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
        return message(
            request,
            200,
            "Use the link in your email",
            "Every issue ends with your own unsubscribe and preferences links.",
        )

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    # --- errors ---------------------------------------------------------------------------

    def error_page(request: Request, status: int, detail: str | None = None) -> HTMLResponse:
        title, text = ERRORS.get(status, (HTTPStatus(status).phrase, ""))
        response = message(request, status, title, detail or text)
        if status in (408, 413):
            response.headers["Connection"] = "close"  # the rest of the body is not wanted
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        own = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
        response = error_page(request, exc.status_code, own)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value  # Allow on a 405
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        """A 500: a styled page with the security headers (this runs outside every
        middleware, so it sets them itself), and nothing of the error in it."""
        try:
            body = render("message", "", title=ERRORS[500][0], text=ERRORS[500][1])
        except Exception:  # the templates themselves may be what broke
            body = f"<!doctype html><title>{ERRORS[500][0]}</title><p>{ERRORS[500][1]}</p>"
        response = HTMLResponse(body, status_code=500)
        add_security_headers(response.headers, hsts=secure_cookie)
        return response

    def refuse(scope: Scope, status: int) -> Response:
        return error_page(Request(scope), status)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.wake()  # requests left from before a restart go out now
        yield
        await run_in_threadpool(worker.stop)

    middleware = [
        Middleware(SecurityHeaders, hsts=secure_cookie),
        Middleware(HeadAsGet),
        Middleware(
            RequestLimits,
            max_body=settings.web.max_body_bytes,
            body_timeout=settings.web.body_timeout,
            refuse=refuse,
            larger={PASTE_PATH: max(settings.web.max_page_bytes, settings.web.max_body_bytes)},
        ),
    ]
    if settings.web.forwarded_allow_ips:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        trusted = list(settings.web.forwarded_allow_ips)
        middleware.insert(0, Middleware(ProxyHeadersMiddleware, trusted_hosts=trusted))

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/subscribe", subscribe, methods=["POST"]),
            Route(links.CONFIRM_ROUTE, confirm, methods=["GET", "POST"]),
            Route(links.UNSUBSCRIBE_ROUTE, unsubscribe, methods=["GET", "POST"]),
            Route(links.PREFERENCES_ROUTE, preferences, methods=["GET", "POST"]),
            Route(links.GENERIC_UNSUBSCRIBE, generic),
            Route(links.GENERIC_PREFERENCES, generic),
            Route("/healthz", health),
            *Desk(
                settings,
                engine,
                page,
                csrf=csrf,
                session_cookie=session_cookie,
                secure_cookie=secure_cookie,
                client=client,
                delivery_url=delivery_url,
            ).routes(),
            *archive_routes(settings, engine, page, lambda name, **c: render(name, "", **c)),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.confirmations = worker
    app.state.unsubscribe_clicks = clicks
    return app
