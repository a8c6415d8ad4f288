"""What every request goes through: the CSRF token (signed, bound to the browser's cookie
and to the desk session), a per-client rate limit, request limits (body size counted
before and while it streams, a body deadline, form field lengths), HEAD answered as GET,
and the security headers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence

from starlette.datastructures import FormData, Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "briefing_csrf"  # "__Host-briefing_csrf" when the site is https
CSRF_FIELD = "csrf_token"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # token URLs must not leak to other sites
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = "max-age=31536000"

# The longest value each form field may have (characters); any other field: DEFAULT_FIELD.
FIELD_LIMITS = {
    "email": 254,  # RFC 5321's limit for a path
    "name": 200,
    "password": 1024,
    CSRF_FIELD: 128,
    "topics": 64,
    "consent": 16,
    "paused": 16,
    "action": 32,
    "List-Unsubscribe": 32,
    "story": 128,
    "subject": 500,
    "preheader": 500,
    "note": 5000,
}
DEFAULT_FIELD = 1000
MAX_FIELDS = 64


def cookie_name(base: str, secure: bool) -> str:
    """Over https a cookie takes the ``__Host-`` prefix: the browser then insists on
    Secure, Path=/ and no Domain, so no other host (a sibling subdomain) can plant it."""
    return f"__Host-{base}" if secure else base


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), hsts=self.hsts)
            await send(message)

        await self.app(scope, receive, with_headers)


def add_security_headers(headers: MutableHeaders, *, hsts: bool) -> None:
    for key, value in HEADERS.items():
        headers.setdefault(key, value)
    if hsts:
        headers.setdefault("Strict-Transport-Security", HSTS)


class Csrf:
    """The CSRF token of a form. The browser holds a random value in an HttpOnly cookie;
    the form carries an HMAC of that value and of the desk session cookie (if any), keyed
    by the signing secret. So a value the server did not make is refused, a short or odd
    cookie is no cookie, and a token taken from another browser (another session) does
    not pass, even with that browser's cookie planted alongside."""

    _VALUE = re.compile(r"[A-Za-z0-9_-]{32,128}")

    def __init__(
        self, signing_secrets: Sequence[str], *, secure: bool, session_cookie: str
    ) -> None:
        self.secure = secure
        self.cookie = cookie_name(CSRF_COOKIE, secure)
        self.session_cookie = session_cookie
        # one derived key per secret: the newest signs, all verify (rotation)
        self._keys = [
            hmac.new(s.encode(), b"briefing csrf v1", hashlib.sha256).digest()
            for s in signing_secrets
        ]

    def _value(self, request: Request) -> str | None:
        value = request.cookies.get(self.cookie)
        return value if value and self._VALUE.fullmatch(value) else None

    def _sign(self, key: bytes, value: str, session: str | None) -> str:
        bound = hashlib.sha256(session.encode()).hexdigest() if session else ""
        digest = hmac.new(key, f"{value}|{bound}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, request: Request) -> tuple[str, str]:
        """(the cookie's value, to set again; the token for this page's forms)."""
        value = self._value(request) or secrets.token_urlsafe(32)
        return value, self._sign(self._keys[0], value, request.cookies.get(self.session_cookie))

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            self.cookie, value, httponly=True, samesite="strict", secure=self.secure, path="/"
        )

    def ok(self, request: Request, submitted: object) -> bool:
        value = self._value(request)
        if not value or not isinstance(submitted, str) or not 40 <= len(submitted) <= 128:
            return False
        session = request.cookies.get(self.session_cookie)
        return any(
            hmac.compare_digest(submitted, self._sign(key, value, session)) for key in self._keys
        )


def client_key(host: str) -> str:
    """What a rate limit counts by: the address; for IPv6 its /64 (one subscriber line
    gets a whole /64, so single addresses would be free for the taking)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (see client_key)."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 50_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str, now: float | None = None) -> tuple[bool, int]:
        now = time.monotonic() if now is None else now
        if len(self._hits) > self.max_keys:
            self._forget_idle(now)  # many addresses must not grow memory without bound
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False, int(hits[0] + self.window - now) + 1
        hits.append(now)
        return True, 0

    def _forget_idle(self, now: float) -> None:
        for key in [
            k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]:
            del self._hits[key]


# --- requests: bodies, fields, HEAD ------------------------------------------------------------


class RequestLimits:
    """Refuses a body over ``max_body`` bytes with 413: at once when Content-Length says
    so (before reading a byte of it), and while it streams when it has no length
    (chunked). A body that takes more than ``body_timeout`` seconds gets 408. Both close
    the connection, so the rest of the body is never read."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        body_timeout: float,
        refuse: Callable[[Scope, int], Response],
        larger: dict[str, int] | None = None,
    ) -> None:
        self.app, self.max_body, self.body_timeout, self.refuse = (
            app,
            max_body,
            body_timeout,
            refuse,
        )
        self.larger = dict(larger or {})  # path -> its own limit (a pasted page's text)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self.larger.get(scope.get("path", ""), self.max_body)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            await self.refuse(scope, 413)(scope, receive, send)
            return
        received = 0
        deadline: float | None = None
        done = False
        loop = asyncio.get_running_loop()

        async def limited() -> Message:
            nonlocal received, deadline, done
            if done:  # the body is complete: nothing more to time or count
                return await receive()
            if deadline is None:
                deadline = loop.time() + self.body_timeout
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.001))
            except TimeoutError:
                raise HTTPException(408, "The request took too long to arrive.") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise HTTPException(413)
                done = not message.get("more_body", False)
            return message

        await self.app(scope, limited, send)


class HeadAsGet:
    """HEAD is answered exactly as GET: the app sees GET (and never reads a HEAD's body),
    and the server, which still knows the request was HEAD, sends no body. So no handler
    can treat HEAD as a POST by testing ``method == "GET"``. ``is_head(request)`` tells
    the few GET handlers with a side effect of reading (the desk's one-time banner) to
    skip it: a HEAD changes nothing at all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = dict(scope, method="GET", **{"briefing.head": True})
        await self.app(scope, receive, send)


def is_head(request: Request) -> bool:
    """The request was a HEAD (answered as GET, see HeadAsGet)."""
    return bool(request.scope.get("briefing.head"))


async def read_form(request: Request, limits: dict[str, int] | None = None) -> FormData:
    """The posted form, each field within its length (FIELD_LIMITS, and ``limits`` for this
    form's own fields); else a 400 that names the field. Files are not taken."""
    own = {**FIELD_LIMITS, **(limits or {})}
    part = max([1024 * 1024, *own.values()])  # a multipart field may be as long as allowed
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=part)
    except ClientDisconnect:  # the client hung up mid-body: nobody to answer, no error of ours
        raise HTTPException(400, "The request ended before its body did.") from None
    items = form.multi_items()
    if len(items) > MAX_FIELDS:
        raise HTTPException(400, f"The form has more than {MAX_FIELDS} fields.")
    for key, value in items:
        if not isinstance(value, str):
            raise HTTPException(400, "Files cannot be sent with this form.")
        limit = own.get(key, DEFAULT_FIELD)
        if len(value) > limit:
            label = (
                key if len(key) <= 40 and key.replace("-", "").replace("_", "").isalnum() else "a"
            )
            raise HTTPException(
                400,
                f"The {label} field is too long: at most {limit:,} characters. "
                "Go back, shorten it and send the form again.",
            )
    return form
