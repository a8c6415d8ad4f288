"""Getting a feed's bytes, from http(s) or a local path, defensively.

A whole-fetch deadline (a server that trickles bytes forever is cut off), a size
cap counted after decompression (a gzip bomb is cut off too), redirects within
http and https, and conditional GET with the ETag / Last-Modified we kept.

A URL that comes from outside (not the operator's own feed list) is fetched with
``policy=AddressPolicy(...)`` (briefing.sources.addresses): then only http(s) is taken, and
every connection, redirects included, goes only to addresses the policy allows.
"""

from __future__ import annotations

import contextvars
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx

from briefing.config import Fetch
from briefing.errors import BriefingError, FeedError

if TYPE_CHECKING:
    from briefing.sources.addresses import AddressPolicy

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


# The monotonic time by which the fetch running in this thread must be done.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write waits at most until the fetch's deadline, so a
    server trickling bytes (headers included) cannot outlast fetch.timeout."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    @staticmethod
    def _limit(timeout: float | None) -> float | None:
        deadline = _DEADLINE.get()
        if deadline is None:
            return timeout
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout("whole-fetch deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._limit(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._limit(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, self._limit(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = super().connect_tcp(
            host, port, _DeadlineStream._limit(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)


@dataclass(frozen=True)
class Fetched:
    """What came back: ``content`` is None when the server said 304 Not Modified."""

    url: str
    status: int
    content: bytes | None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_remote(location: str) -> bool:
    # the scheme alone: urlsplit raises on some malformed URLs, which fetch() reports
    scheme, colon, _ = location.strip().partition(":")
    return bool(colon) and scheme.lower() in {"http", "https"}


def local_path(location: str) -> Path | None:
    """A plain path or a file: URL; None for anything with another scheme."""
    try:
        parts = urlsplit(location)
    except ValueError:  # "//host/[x": not a URL we can read, so a path
        return Path(location)
    if parts.scheme == "file":
        return Path(parts.path)
    if parts.scheme == "" or (len(parts.scheme) == 1 and location[1:3] in {":\\", ":/"}):
        return Path(location)
    return None


def fetch(
    location: str,
    settings: Fetch,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
    policy: AddressPolicy | None = None,
) -> Fetched:
    """Fetch a feed. Raises FeedError naming the location and what went wrong.
    ``policy``: the location came from outside; only http(s), only allowed addresses."""
    if policy is not None and not is_remote(location):
        raise FeedError(location, "is not an http:// or https:// URL", "give a web address")
    if is_remote(location):
        _check_url(location)
        own = client is None
        client = client or make_client(settings, policy=policy)
        try:
            return _fetch_http(client, location, settings, etag, last_modified)
        finally:
            if own:
                client.close()
    path = local_path(location)
    if path is None:
        scheme = urlsplit(location).scheme
        raise FeedError(
            location,
            f"the {scheme}: scheme is not supported",
            "use an http:// or https:// URL, or a local file path",
        )
    return _read_local(path, location, settings)


def _check_url(url: str) -> None:
    """A typo'd http(s) URL fails as itself, not as a redirect or a traceback."""
    example = "write it whole, e.g. https://example.org/feed.xml"
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError as exc:
        raise FeedError(url, f"not a valid URL ({exc})", example) from exc
    if not host:
        raise FeedError(url, "the URL has no host name", example)


def make_client(settings: Fetch, *, policy: AddressPolicy | None = None) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=min(settings.timeout, 30.0),
        write=settings.connect_timeout,
        pool=settings.connect_timeout,
    )
    transport = httpx.HTTPTransport(retries=0)
    if policy is not None:
        from briefing.sources.addresses import install_backend

        # the policy picks and checks the address, the deadline backend connects to it
        install_backend(transport, policy.sync_backend(_DeadlineBackend()))
    else:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _DeadlineBackend()  # whole-fetch deadline (_DeadlineStream)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        },
        trust_env=False,
        transport=transport,
    )


def _fetch_http(
    client: httpx.Client, url: str, settings: Fetch, etag: str | None, last_modified: str | None
) -> Fetched:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    token = _DEADLINE.set(time.monotonic() + settings.timeout)
    try:
        with client.stream("GET", url, headers=headers) as response:
            final = str(response.url)
            if response.status_code == 304:
                return Fetched(
                    final,
                    304,
                    None,
                    None,
                    response.headers.get("etag", etag),
                    response.headers.get("last-modified", last_modified),
                )
            if response.status_code >= 400:
                raise _status_error(url, response.status_code)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                raise FeedError(
                    url,
                    f"response is {int(declared):,} bytes, over the "
                    f"{settings.max_bytes:,}-byte limit (fetch.max_bytes)",
                    "raise fetch.max_bytes in the config if this feed is really that big",
                )
            body = _read_capped(url, response, settings.max_bytes)
            return Fetched(
                final,
                response.status_code,
                body,
                response.headers.get("content-type"),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except FeedError:
        raise
    except BriefingError as exc:  # AddressRefused: the URL or a redirect points inside
        raise FeedError(url, getattr(exc, "reason", exc.message), exc.hint) from exc
    except httpx.TooManyRedirects as exc:
        raise FeedError(
            url,
            f"more than {settings.max_redirects} redirects",
            "open the URL in a browser and use the address it ends at",
        ) from exc
    except httpx.InvalidURL as exc:  # not an HTTPError: e.g. a control character in it
        raise FeedError(
            url,
            f"is not a URL that can be fetched ({exc})",
            "check the address: type it again or copy it from a browser",
        ) from exc
    except httpx.UnsupportedProtocol as exc:
        raise FeedError(
            url,
            "redirected to a URL that is not http or https",
            "use the feed's final http(s) address",
        ) from exc
    except httpx.TimeoutException as exc:
        deadline = _DEADLINE.get()
        if deadline is not None and time.monotonic() >= deadline:
            raise FeedError(
                url,
                f"timed out: not done after {settings.timeout:g} s (fetch.timeout)",
                "the server is too slow; try later or raise fetch.timeout",
            ) from exc
        raise FeedError(
            url,
            f"timed out ({type(exc).__name__})",
            "the server did not answer in time; try later or raise fetch.timeout",
        ) from exc
    except httpx.HTTPError as exc:
        raise FeedError(
            url,
            f"cannot fetch: {exc or type(exc).__name__}",
            "check the URL and your network connection",
        ) from exc
    finally:
        _DEADLINE.reset(token)


def _read_capped(url: str, response: httpx.Response, cap: int) -> bytes:
    """The body, decompressed here (not by httpx) so no chunk can expand past the cap."""
    encoding = response.headers.get("content-encoding", "identity").lower().strip()
    too_big = FeedError(
        url,
        f"response passed the {cap:,}-byte limit (fetch.max_bytes) and was cut off",
        "raise fetch.max_bytes in the config if this feed is really that big",
    )
    if encoding in {"", "identity"}:
        decoder = None
    elif encoding in {"gzip", "x-gzip"}:
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    else:
        raise FeedError(
            url, f"the server used the {encoding!r} content encoding, which we did not ask for"
        )
    out = bytearray()
    for chunk in response.iter_raw():
        if decoder is None:
            out += chunk
        else:
            data = chunk
            while data and len(out) <= cap:
                try:
                    out += decoder.decompress(data, cap + 1 - len(out))
                except zlib.error as exc:
                    raise FeedError(url, f"the compressed response is corrupt: {exc}") from exc
                data = decoder.unconsumed_tail
        if len(out) > cap:
            raise too_big
    return bytes(out)


def _status_error(url: str, status: int) -> FeedError:
    if status == 404:
        return FeedError(
            url, "not found (HTTP 404)", "check the feed URL; the site may have moved it"
        )
    if status == 410:
        return FeedError(
            url, "gone (HTTP 410)", "the site removed this feed; remove it from the config"
        )
    if status in {401, 403}:
        return FeedError(
            url, f"access refused (HTTP {status})", "the feed needs credentials or blocks us"
        )
    if status == 429:
        return FeedError(url, "rate-limited (HTTP 429)", "fetch less often (schedule.ingest_every)")
    if status >= 500:
        return FeedError(
            url,
            f"server error (HTTP {status})",
            "the site has a problem; it will be retried next run",
        )
    return FeedError(url, f"HTTP {status}")


def _read_local(path: Path, location: str, settings: Fetch) -> Fetched:
    try:
        size = path.stat().st_size
        if size > settings.max_bytes:
            raise FeedError(
                location,
                f"file is {size:,} bytes, over the {settings.max_bytes:,}-byte "
                "limit (fetch.max_bytes)",
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FeedError(
            location,
            "no such file",
            "check the path (relative paths start at the current folder); a web address "
            "starts with https://",
        ) from exc
    except IsADirectoryError as exc:
        raise FeedError(location, "is a folder, not a feed file") from exc
    except PermissionError as exc:
        raise FeedError(location, "permission denied", "make the file readable") from exc
    except OSError as exc:
        raise FeedError(location, f"cannot be read: {exc.strerror or exc}") from exc
    return Fetched(path.resolve().as_uri(), 200, data)
