"""The shapes of the links in emails already sent (unsubscribe, preferences,
confirmation, archive) and of their tokens: pinned, because a change would break every
link in every mailbox. The literal strings are what Briefing produced before
briefing.links existed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from briefing import links, tokens
from briefing.config import load_settings
from briefing.models import Subscriber
from briefing.render.compile import web_url
from briefing.services.subscriptions import confirmation_link
from briefing.web.server import redact

BASE = "https://news.example.org"
SECRETS = ["s3cret", "old"]
TOKEN_ID = "abcDEF123_-x"
TOKEN = "abcDEF123_-x.-tdywJ4YCLhEhDyYJwORMI"
REPO = Path(__file__).parent.parent


def test_manage_links_keep_their_exact_shape() -> None:
    assert tokens.manage_links(BASE, TOKEN_ID, SECRETS) == (
        f"{BASE}/u/{TOKEN}",
        f"{BASE}/p/{TOKEN}",
        TOKEN,
    )
    assert tokens.verify(TOKEN, SECRETS) == TOKEN_ID
    assert tokens.verify(TOKEN, ["old", "s3cret"]) == TOKEN_ID  # any configured secret


def test_confirmation_link_keeps_its_exact_shape() -> None:
    settings = load_settings(
        REPO / "briefing.toml",
        env={},
        overrides={"newsletter": {"base_url": BASE}, "subscriptions": {"confirm_days": 7}},
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    sub = Subscriber(
        id=1,
        email="a@example.org",
        name=None,
        status="pending",
        paused=False,
        topics=None,
        timezone=None,
        locale=None,
        token_id=TOKEN_ID,
        created_at=now,
    )
    url = confirmation_link(settings, sub, ["s3cret"], now)
    assert url == f"{BASE}/confirm/abcDEF123_-x.1767830400.djaGX1snjMXaGnEJ6zDVck"
    found = links.parse(url, BASE)
    assert found is not None and found.kind == "confirm" and found.token is not None
    assert tokens.verify(found.token, ["s3cret"], purpose="confirm") == TOKEN_ID
    assert tokens.sign(TOKEN_ID, ["s3cret"], purpose="confirm", expires=1767225600) == (
        "abcDEF123_-x.1767225600.oKSxjZ7yZX9SESkGDilf1e"
    )
    assert web_url(settings, 42) == f"{BASE}/archive/42"


def test_builders_give_the_literal_urls() -> None:
    assert links.unsubscribe_url(BASE, "T.k") == "https://news.example.org/u/T.k"
    assert links.preferences_url(BASE, "T.k") == "https://news.example.org/p/T.k"
    assert links.confirm_url(BASE, "T.1.k") == "https://news.example.org/confirm/T.1.k"
    assert links.archive_url(BASE) == "https://news.example.org/archive"
    assert links.archive_url(BASE, 7) == "https://news.example.org/archive/7"
    assert links.archive_feed_url(BASE) == "https://news.example.org/archive.atom"
    assert links.UNSUBSCRIBE_ROUTE == "/u/{token}"
    assert links.PREFERENCES_ROUTE == "/p/{token}"
    assert links.CONFIRM_ROUTE == "/confirm/{token}"
    assert links.ARCHIVE_ISSUE_ROUTE == "/archive/{issue_id}"
    assert (links.GENERIC_UNSUBSCRIBE, links.GENERIC_PREFERENCES) == (
        "/unsubscribe",
        "/preferences",
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (links.unsubscribe_url(BASE, TOKEN), links.Link("unsubscribe", token=TOKEN)),
        (links.preferences_url(BASE, TOKEN), links.Link("preferences", token=TOKEN)),
        (links.confirm_url(BASE, "a.1.b"), links.Link("confirm", token="a.1.b")),
        (links.archive_url(BASE, 12), links.Link("archive", issue_id=12)),
        (links.archive_url(BASE), links.Link("archive")),
        (f"/u/{TOKEN}?x=1", links.Link("unsubscribe", token=TOKEN)),
        (f"http://elsewhere.example/p/{TOKEN}", links.Link("preferences", token=TOKEN)),
    ],
)
def test_build_then_parse_round_trips(url: str, expected: links.Link) -> None:
    assert links.parse(url) == expected


@pytest.mark.parametrize(
    "url",
    ["/u/", "/u/a/b", "/archive/x1", "/archive/+1", "/unsubscribe", "/desk", "/archive.atom"],
)
def test_parse_refuses_other_paths(url: str) -> None:
    assert links.parse(url) is None


def test_parse_with_a_base_refuses_other_sites() -> None:
    assert links.parse(f"https://evil.example/u/{TOKEN}", BASE) is None


def test_the_access_log_redacts_every_token_path() -> None:
    assert [
        redact(p)
        for p in ["/u/abc.def?x=1", "/p/tok", "/confirm/a.b.c", "/archive/3", "/u/", "/unsubscribe"]
    ] == [
        "/u/[redacted]",
        "/p/[redacted]",
        "/confirm/[redacted]",
        "/archive/3",
        "/u/[redacted]",
        "/unsubscribe",
    ]
