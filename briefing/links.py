"""The one place that builds and reads the public links Briefing puts in emails and
pages: unsubscribe (``/u/TOKEN``), preferences (``/p/TOKEN``), confirmation
(``/confirm/TOKEN``) and the archive (``/archive``, ``/archive/N``, ``/archive.atom``).

These shapes are in emails already sent: they must never change (tests/test_links.py
pins them). The tokens themselves are made and checked by briefing.tokens; here they are
opaque path segments. Base layer: imports only the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

UNSUBSCRIBE_PREFIX = "/u/"
PREFERENCES_PREFIX = "/p/"
CONFIRM_PREFIX = "/confirm/"
ARCHIVE = "/archive"
ARCHIVE_FEED = "/archive.atom"
# the pages a generic ("use the link in your email") link leads to: the web version's
GENERIC_UNSUBSCRIBE = "/unsubscribe"
GENERIC_PREFERENCES = "/preferences"

# Starlette route paths
UNSUBSCRIBE_ROUTE = UNSUBSCRIBE_PREFIX + "{token}"
PREFERENCES_ROUTE = PREFERENCES_PREFIX + "{token}"
CONFIRM_ROUTE = CONFIRM_PREFIX + "{token}"
ARCHIVE_ISSUE_ROUTE = ARCHIVE + "/{issue_id}"

# the paths whose last part is a token (what an access log must not keep)
TOKEN_PREFIXES = (UNSUBSCRIBE_PREFIX, PREFERENCES_PREFIX, CONFIRM_PREFIX)

Kind = Literal["unsubscribe", "preferences", "confirm", "archive"]
_PREFIX: dict[Kind, str] = {
    "unsubscribe": UNSUBSCRIBE_PREFIX,
    "preferences": PREFERENCES_PREFIX,
    "confirm": CONFIRM_PREFIX,
}


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}{UNSUBSCRIBE_PREFIX}{token}"


def preferences_url(base_url: str, token: str) -> str:
    return f"{base_url}{PREFERENCES_PREFIX}{token}"


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url}{CONFIRM_PREFIX}{token}"


def archive_url(base_url: str, issue_id: int | None = None) -> str:
    """The archive's index, or one issue's page in it."""
    return f"{base_url}{ARCHIVE}" if issue_id is None else f"{base_url}{ARCHIVE}/{issue_id}"


def archive_feed_url(base_url: str) -> str:
    return f"{base_url}{ARCHIVE_FEED}"


@dataclass(frozen=True)
class Link:
    """What a link of ours points at: its kind and its token or issue number."""

    kind: Kind
    token: str | None = None
    issue_id: int | None = None


_ISSUE = re.compile(r"[0-9]{1,15}")


def issue_number(text: str) -> int | None:
    """An issue number from a path: plain ASCII digits that fit the database (no "+1",
    "1_0", other scripts' digits or 20-digit numbers); None for anything else (a 404)."""
    return int(text) if _ISSUE.fullmatch(text) else None


def parse(url: str, base_url: str | None = None) -> Link | None:
    """The link a URL (or a bare path) is, or None for anything else. With ``base_url``,
    a full URL must start with it."""
    if base_url is not None and "://" in url:
        if not url.startswith(base_url):
            return None
        path = url[len(base_url) :]
    elif "://" in url:
        path = urlsplit(url).path
    else:
        path = url
    path = path.split("?", 1)[0].split("#", 1)[0]
    for kind, prefix in _PREFIX.items():
        if path.startswith(prefix):
            token = path[len(prefix) :]
            return Link(kind, token=token) if token and "/" not in token else None
    if path == ARCHIVE:
        return Link("archive")
    if path.startswith(ARCHIVE + "/"):
        number = path[len(ARCHIVE) + 1 :]
        found = issue_number(number)
        return Link("archive", issue_id=found) if found is not None else None
    return None
