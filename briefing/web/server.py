"""Running the web app under uvicorn as `briefing serve` does: the timeouts that cut off
slow clients, an access log without tokens, and the warnings an operator should see.

uvicorn's keep-alive timeout only starts after a response, and h11 has no timeout of its
own for a request's head: a client that connects and then sends its headers a byte at a
time (or nothing at all) would hold its connection for ever. ``GuardedH11Protocol`` gives
every request head ``web.header_timeout`` seconds from the moment the connection opens
or the previous response ends; the body has ``web.body_timeout`` (web/security.py).
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import logging
import re
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from briefing import links
from briefing.config import Settings

# the paths whose last part is a token (unsubscribe, preferences, confirmation links)
_TOKEN_PATH = re.compile(
    "^(" + "|".join(re.escape(p) for p in links.TOKEN_PREFIXES) + r")[^?#]*(?:\?.*)?$"
)


def redact(path: str) -> str:
    """``/u/TOKEN?x=1`` -> ``/u/[redacted]``: what the access log may keep of a path."""
    return _TOKEN_PATH.sub(r"\1[redacted]", path)


class RedactTokens(logging.Filter):
    """On uvicorn's access logger: the token in a link's path never reaches the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_tokens": {"()": RedactTokens}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    # Briefing's own lines (failed sign-ins, confirmation retries) go with uvicorn's
    config["loggers"]["briefing"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head (see the module
    docstring). ``header_timeout`` is set on a subclass made by ``protocol_for``."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            # nothing useful can be said to a client that never finished its request line
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._waiting_for_head():
            self._cancel_head_timer()  # the head is in: the app has it now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._waiting_for_head() and not self.transport.is_closing():
            self._arm_head_timer()  # the next request on this connection gets its own

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)


def protocol_for(settings: Settings) -> type[GuardedH11Protocol]:
    return type(
        "BriefingH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": settings.web.header_timeout},
    )


def uvicorn_config(
    app: Any, settings: Settings, *, host: str, port: int, **extra: Any
) -> uvicorn.Config:
    """The uvicorn Config `briefing serve` runs with. The proxy headers are read inside
    the app (create_app, from web.forwarded_allow_ips), so uvicorn's own reading is off,
    whatever FORWARDED_ALLOW_IPS says."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_for(settings),
        timeout_keep_alive=max(1, round(settings.web.keep_alive_timeout)),
        proxy_headers=False,
        server_header=False,
        log_config=log_config(),
        log_level="info",
        **extra,
    )


def warnings_for(settings: Settings, host: str) -> list[str]:
    """What an operator should hear before the server starts."""
    found = []
    public = not _is_loopback(host)
    if public and not settings.newsletter.base_url.startswith("https://"):
        found.append(
            f"serving on {host}, reachable from other machines, but newsletter.base_url is "
            f"{settings.newsletter.base_url}: sign-ins, cookies and subscribers' links would "
            "travel without https. Put the app behind an https reverse proxy (keep --host "
            "127.0.0.1) and set newsletter.base_url to its https:// address"
        )
    if public and settings.web.forwarded_allow_ips == ("*",):
        found.append(
            "web.forwarded_allow_ips is '*' on a public address: any client can claim any "
            "address with X-Forwarded-For; name the proxy's address instead"
        )
    return found


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere
