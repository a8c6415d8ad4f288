"""Getting a feed's bytes, from http(s) or a local path, defensively.

A whole-fetch deadline (a server that trickles bytes forever is cut off), a size
cap counted after decompression (a gzip bomb is cut off too), redirects within
http and https, and conditional GET with the ETag / Last-Modified we kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from briefing.config import Fetch
from briefing.errors import FeedError

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


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
    return urlsplit(location).scheme.lower() in {"http", "https"}


def local_path(location: str) -> Path | None:
    """A plain path or a file: URL; None for anything with another scheme."""
    parts = urlsplit(location)
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
) -> Fetched:
    """Fetch a feed. Raises FeedError naming the location and what went wrong."""
    if is_remote(location):
        own = client is None
        client = client or make_client(settings)
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


def make_client(settings: Fetch) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=min(settings.timeout, 30.0),
        write=settings.connect_timeout,
        pool=settings.connect_timeout,
    )
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
    )


def _fetch_http(
    client: httpx.Client, url: str, settings: Fetch, etag: str | None, last_modified: str | None
) -> Fetched:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.timeout
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
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > settings.max_bytes:
                    raise FeedError(
                        url,
                        f"response passed the {settings.max_bytes:,}-byte limit "
                        "(fetch.max_bytes) and was cut off",
                        "raise fetch.max_bytes in the config if this feed is really that big",
                    )
                if time.monotonic() > deadline:
                    raise FeedError(
                        url,
                        f"still sending after {settings.timeout:g} s (fetch.timeout); gave up",
                        "the server is too slow; try later or raise fetch.timeout",
                    )
                chunks.append(chunk)
            return Fetched(
                final,
                response.status_code,
                b"".join(chunks),
                response.headers.get("content-type"),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except FeedError:
        raise
    except httpx.TooManyRedirects as exc:
        raise FeedError(
            url,
            f"more than {settings.max_redirects} redirects",
            "open the URL in a browser and use the address it ends at",
        ) from exc
    except httpx.UnsupportedProtocol as exc:
        raise FeedError(
            url,
            "redirected to a URL that is not http or https",
            "use the feed's final http(s) address",
        ) from exc
    except httpx.TimeoutException as exc:
        raise FeedError(
            url,
            f"timed out ({type(exc).__name__}; fetch.timeout is {settings.timeout:g} s)",
            "the server did not answer in time; try later or raise fetch.timeout",
        ) from exc
    except httpx.DecodingError as exc:
        raise FeedError(url, f"the compressed response is corrupt: {exc}") from exc
    except httpx.HTTPError as exc:
        raise FeedError(
            url,
            f"cannot fetch: {exc or type(exc).__name__}",
            "check the URL and your network connection",
        ) from exc


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
            location, "no such file", "check the path (relative paths start at the current folder)"
        ) from exc
    except IsADirectoryError as exc:
        raise FeedError(location, "is a folder, not a feed file") from exc
    except PermissionError as exc:
        raise FeedError(location, "permission denied", "make the file readable") from exc
    except OSError as exc:
        raise FeedError(location, f"cannot be read: {exc.strerror or exc}") from exc
    return Fetched(path.resolve().as_uri(), 200, data)
