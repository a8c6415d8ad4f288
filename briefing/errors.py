"""The errors Briefing raises on purpose, each with a message and a hint.

    BriefingError                 anything the CLI reports as `error:` + `hint:` and exit 1
    ├── ConfigError               the config file or a BRIEFING_* variable is wrong
    ├── StorageError              the database cannot be opened or migrated
    ├── SourceError               one seed file or feed could not be read or parsed
    │   ├── SeedError             a seed file (unreadable, empty, not text, bad front matter)
    │   │   └── NoArticleError    the page holds no article (a home page, a list, a cookie wall)
    │   ├── FeedError             a feed (network, HTTP status, size, not a feed, hostile XML)
    │   └── PageError             a page fetched from a URL (network, HTTP status, size, a PDF
    │                             or an image, a private address)
    ├── NotFoundError             a named thing (article, issue, subscriber) does not exist
    └── UnsafeHeader              a header value with CR or LF, or an address that cannot go on the wire

Library exceptions are translated at the boundary with ``raise ... from exc`` so the
traceback stays available under ``--debug``.
"""

from __future__ import annotations


class BriefingError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` what to do about it."""

    default_hint = "run the command again with --debug to see the traceback"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message


class ConfigError(BriefingError):
    default_hint = "fix the key named above in your config file (see README: Configuration)"


class StorageError(BriefingError):
    default_hint = "check storage.url in the config or the --db flag"


class SourceError(BriefingError):
    """One source failed; the run records it and goes on with the others."""

    def __init__(self, source: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{source}: {message}", hint)
        self.source = source
        self.reason = message


class SeedError(SourceError):
    default_hint = "fix or remove the seed file; other seeds were still ingested"


class NoArticleError(SeedError):
    """Not a failure of the file: the page it holds is not a story. Reported as a warning."""

    default_hint = "save the article's own page, not a home page, list or consent notice"


class FeedError(SourceError):
    default_hint = "check the feed URL in a browser; other feeds were still ingested"


class PageError(SourceError):
    """A URL given to `ingest --url` or the desk's "Add by URL" could not be made an article."""

    default_hint = "open the URL in a browser to check it; nothing was stored for it"


class NotFoundError(BriefingError):
    default_hint = "list what exists with the matching list command (e.g. `briefing articles`)"


class UnsafeHeader(BriefingError):
    """Raised by the composers, whatever the value's source: text with CR or LF would add
    headers (or a body) of its own to the email."""

    default_hint = (
        "header-bound text is cleaned where it enters (form, CSV, CLI, config, feeds); "
        "a stored value that is not was written by something else: fix it and send again"
    )
