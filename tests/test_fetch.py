"""fetch() against a real HTTP server on 127.0.0.1 (see conftest.http_server): conditional
GET, redirects, errors, compression, and hostile servers (slow, silent, huge, gzip bombs)."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from briefing.config import Fetch, load_settings
from briefing.errors import FeedError
from briefing.services import ingest as pipeline
from briefing.sources.fetch import fetch
from briefing.store import articles as store
from briefing.store.db import open_engine

FEEDS = Path(__file__).parent / "data" / "feeds"
RSS = (FEEDS / "rss2.xml").read_bytes()
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ETAG = '"v1-abc"'
LAST_MODIFIED = "Tue, 05 Mar 2024 10:00:00 GMT"


def outcome_within(
    seconds: float, fn: Callable[[], Any]
) -> tuple[Any, BaseException | None, float]:
    """Run fn in a thread; fail the test (not hang) if it is still running after ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - start
    assert not thread.is_alive(), f"fetch still running after {seconds} s: no whole-fetch deadline"
    return box.get("value"), box.get("error"), elapsed


def conditional_feed(request, server) -> None:
    if (
        request.headers.get("If-None-Match") == ETAG
        or request.headers.get("If-Modified-Since") == LAST_MODIFIED
    ):
        server.send(request, 304, headers={"ETag": ETAG})
    else:
        server.send(request, 200, RSS, {**RSS_TYPE, "ETag": ETAG, "Last-Modified": LAST_MODIFIED})


# --- the ordinary path -----------------------------------------------------------------------


def test_200_then_conditional_get_answered_304(http_server) -> None:
    http_server.route("/feed.xml", conditional_feed)
    url = http_server.url("/feed.xml")
    settings = Fetch(timeout=5)

    first = fetch(url, settings)
    assert (first.status, first.not_modified) == (200, False)
    assert first.content == RSS
    assert first.url == url
    assert first.content_type == RSS_TYPE["Content-Type"]
    assert (first.etag, first.last_modified) == (ETAG, LAST_MODIFIED)
    sent = http_server.requests_for("/feed.xml")[0].headers
    assert sent.get("If-None-Match") is None and sent.get("If-Modified-Since") is None
    assert sent["User-Agent"] == settings.user_agent
    assert "rss+xml" in sent["Accept"]

    second = fetch(url, settings, etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304 and second.not_modified
    assert second.content is None
    assert (second.etag, second.last_modified) == (ETAG, LAST_MODIFIED)
    sent = http_server.requests_for("/feed.xml")[1].headers
    assert sent["If-None-Match"] == ETAG
    assert sent["If-Modified-Since"] == LAST_MODIFIED


def test_ingest_reuses_the_stored_etag_and_reports_not_modified(
    http_server, tmp_path: Path
) -> None:
    http_server.route("/feed.xml", conditional_feed)
    url = http_server.url("/feed.xml")
    settings = load_settings(
        None,
        env={},
        overrides={"storage": {"url": f"sqlite:///{tmp_path}/t.db"}, "fetch": {"timeout": 5}},
    )
    engine = open_engine(settings.database_url)
    try:
        (r1,) = pipeline.ingest(settings, engine, feeds=[url], only_given=True, now=NOW)
        assert (r1.source, r1.status, r1.new) == ("feed:" + url, "ok", 3)
        with engine.connect() as conn:
            src = store.get_source(conn, "feed:" + url)
        assert src is not None
        assert (src["etag"], src["last_modified"], src["last_http_status"]) == (
            ETAG,
            LAST_MODIFIED,
            200,
        )

        (r2,) = pipeline.ingest(settings, engine, feeds=[url], only_given=True, now=NOW)
        assert r2.status == "not_modified"
        assert (r2.new, r2.updated, r2.failed) == (0, 0, 0)
        sent = http_server.requests_for("/feed.xml")[1].headers
        assert sent["If-None-Match"] == ETAG
        assert sent["If-Modified-Since"] == LAST_MODIFIED
        with engine.connect() as conn:
            src = store.get_source(conn, "feed:" + url)
            assert len(store.list_articles(conn)) == 3  # a 304 removes nothing
        assert src is not None
        assert (src["etag"], src["last_status"], src["last_http_status"]) == (
            ETAG,
            "not_modified",
            304,
        )
    finally:
        engine.dispose()


def test_redirects_are_followed_and_final_url_recorded(http_server) -> None:
    http_server.add("/old", status=301, headers={"Location": "/middle"})
    http_server.add(
        "/middle", status=302, headers={"Location": http_server.url("/feeds/final.xml")}
    )
    http_server.add("/feeds/final.xml", body=RSS, headers=RSS_TYPE)
    got = fetch(http_server.url("/old"), Fetch(timeout=5))
    assert got.status == 200
    assert got.url == http_server.url("/feeds/final.xml")
    assert got.content == RSS
    assert [len(http_server.requests_for(p)) for p in ("/old", "/middle", "/feeds/final.xml")] == [
        1,
        1,
        1,
    ]


def test_too_many_redirects(http_server) -> None:
    def loop(request, server) -> None:
        n = int(request.path.rsplit("=", 1)[1]) if "=" in request.path else 0
        server.send(request, 302, headers={"Location": f"/loop?n={n + 1}"})

    http_server.route("/loop", loop)
    url = http_server.url("/loop")
    with pytest.raises(FeedError) as info:
        fetch(url, Fetch(timeout=5, max_redirects=3))
    assert info.value.source == url
    assert "more than 3 redirects" in info.value.reason
    assert len(http_server.requests_for("/loop")) == 4  # the first request and 3 redirects


def test_a_url_httpx_cannot_parse_is_a_feed_error(http_server) -> None:
    url = http_server.url("/feed\x7f.xml")  # a control character: httpx refuses the URL
    with pytest.raises(FeedError) as info:
        fetch(url, Fetch(timeout=5))
    assert info.value.source == url
    assert "is not a URL that can be fetched" in info.value.reason and info.value.hint
    assert http_server.requests == []


def test_redirect_to_a_local_file_is_refused(http_server) -> None:
    http_server.add("/sneaky", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FeedError) as info:
        fetch(http_server.url("/sneaky"), Fetch(timeout=5))
    assert "not http or https" in info.value.reason


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (404, "not found (HTTP 404)"),
        (500, "server error (HTTP 500)"),
        (403, "HTTP 403"),
        (410, "HTTP 410"),
    ],
)
def test_http_error_statuses(http_server, status: int, words: str) -> None:
    http_server.add(
        "/feed.xml", status=status, body=b"<html>nope</html>", headers={"Content-Type": "text/html"}
    )
    url = http_server.url("/feed.xml")
    with pytest.raises(FeedError) as info:
        fetch(url, Fetch(timeout=5))
    assert info.value.source == url
    assert words in info.value.reason
    assert str(info.value).startswith(url)


def test_unknown_path_is_404_through_ingest(http_server, tmp_path: Path) -> None:
    url = http_server.url("/nowhere.xml")
    settings = load_settings(
        None, env={}, overrides={"storage": {"url": f"sqlite:///{tmp_path}/t.db"}}
    )
    engine = open_engine(settings.database_url)
    try:
        (r,) = pipeline.ingest(settings, engine, feeds=[url], only_given=True, now=NOW)
    finally:
        engine.dispose()
    assert (r.status, r.failed) == ("error", 1)
    assert "404" in (r.error or "")


def test_gzip_body_is_decoded(http_server) -> None:
    packed = gzip.compress(RSS)
    http_server.add("/feed.xml", body=packed, headers={**RSS_TYPE, "Content-Encoding": "gzip"})
    got = fetch(http_server.url("/feed.xml"), Fetch(timeout=5))
    assert got.content == RSS
    assert "gzip" in http_server.requests_for("/feed.xml")[0].headers["Accept-Encoding"]


def test_corrupt_gzip_is_a_feed_error(http_server) -> None:
    http_server.add(
        "/feed.xml",
        body=b"\x1f\x8b\x08\x00garbage-not-deflate" * 4,
        headers={**RSS_TYPE, "Content-Encoding": "gzip"},
    )
    with pytest.raises(FeedError) as info:
        fetch(http_server.url("/feed.xml"), Fetch(timeout=5))
    assert "corrupt" in info.value.reason


# --- hostile servers -------------------------------------------------------------------------


def test_server_trickling_body_bytes_is_cut_off_by_the_deadline(http_server) -> None:
    def slow(request, server) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Connection", "close")
        request.end_headers()
        server.trickle(request, data=b"<", every=0.1)  # well inside the read timeout, forever

    http_server.route("/slow.xml", slow)
    url = http_server.url("/slow.xml")
    _, error, elapsed = outcome_within(5.0, lambda: fetch(url, Fetch(timeout=1.5)))
    assert isinstance(error, FeedError), error
    assert 1.4 < elapsed < 5.0
    assert "1.5 s" in error.reason


def test_server_trickling_header_bytes_is_cut_off_by_the_deadline(http_server) -> None:
    """The deadline covers the whole fetch, headers included: a server that sends one
    header byte at a time, forever, must be cut off too."""

    def slow_headers(request, server) -> None:
        request.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Padding: ")
        server.trickle(request, data=b"a", every=0.1)

    http_server.route("/slow-headers.xml", slow_headers)
    url = http_server.url("/slow-headers.xml")
    _, error, elapsed = outcome_within(5.0, lambda: fetch(url, Fetch(timeout=1.5)))
    assert isinstance(error, FeedError), error
    assert elapsed < 5.0


def test_server_sending_headers_then_nothing_times_out(http_server) -> None:
    def silent(request, server) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", "5000")
        request.end_headers()
        request.wfile.flush()
        server.stopping.wait(30)
        request.close_connection = True

    http_server.route("/silent.xml", silent)
    url = http_server.url("/silent.xml")
    _, error, elapsed = outcome_within(5.0, lambda: fetch(url, Fetch(timeout=1.0)))
    assert isinstance(error, FeedError), error
    assert error.source == url
    assert "timed out" in error.reason
    assert 0.9 < elapsed < 4.0


def test_declared_content_length_over_max_bytes_is_refused(http_server) -> None:
    http_server.add("/big.xml", body=b"x" * 5000, headers=RSS_TYPE)
    with pytest.raises(FeedError) as info:
        fetch(http_server.url("/big.xml"), Fetch(timeout=5, max_bytes=1000))
    assert "5,000 bytes" in info.value.reason
    assert "1,000-byte limit" in info.value.reason
    assert "max_bytes" in info.value.hint


def test_chunked_body_without_length_is_cut_off_at_max_bytes(http_server) -> None:
    def endless_chunks(request, server) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        piece = b"y" * 4096
        server.trickle(request, data=b"%x\r\n%s\r\n" % (len(piece), piece), every=0.001, limit=10)

    http_server.route("/chunked.xml", endless_chunks)
    url = http_server.url("/chunked.xml")
    _, error, elapsed = outcome_within(5.0, lambda: fetch(url, Fetch(timeout=4, max_bytes=50_000)))
    assert isinstance(error, FeedError), error
    assert "passed the 50,000-byte limit" in error.reason
    assert elapsed < 3.0  # cut off by size, not by the deadline
    assert http_server.requests_for("/chunked.xml")[0].headers.get("Content-Length") is None


def test_chunked_body_under_max_bytes_is_read_whole(http_server) -> None:
    def chunked(request, server) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for i in range(0, len(RSS), 300):
            piece = RSS[i : i + 300]
            request.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        request.wfile.write(b"0\r\n\r\n")
        request.wfile.flush()

    http_server.route("/chunked.xml", chunked)
    got = fetch(http_server.url("/chunked.xml"), Fetch(timeout=5, max_bytes=len(RSS)))
    assert got.content == RSS


def test_gzip_bomb_is_cut_off_by_max_bytes(http_server) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    http_server.add("/bomb.xml", body=bomb, headers={**RSS_TYPE, "Content-Encoding": "gzip"})
    url = http_server.url("/bomb.xml")
    _, error, elapsed = outcome_within(
        5.0, lambda: fetch(url, Fetch(timeout=4, max_bytes=1_000_000))
    )
    assert isinstance(error, FeedError), error
    assert "passed the 1,000,000-byte limit" in error.reason
    assert elapsed < 3.0


@pytest.mark.parametrize(
    "location", ["ftp://example.com/feed.xml", "gopher://example.com/1/feed", "javascript:alert(1)"]
)
def test_non_http_schemes_are_refused(location: str) -> None:
    with pytest.raises(FeedError) as info:
        fetch(location, Fetch(timeout=1))
    assert info.value.source == location
    scheme = location.split(":", 1)[0]
    assert f"the {scheme}: scheme is not supported" in info.value.reason
    assert "http" in info.value.hint
