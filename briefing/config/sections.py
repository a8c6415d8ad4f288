"""The config file's sections as pydantic models, each validated at load (the
``[schedule]`` section is in ``schedule.py``, the whole ``Settings`` in ``__init__``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    pass

from briefing.headertext import NAME_MAX, PREHEADER_MAX, SUBJECT_MAX, control_characters

CONFIG_NAME = "briefing.toml"
ENV_PREFIX = "BRIEFING_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _header_bound(value: str, limit: int) -> str:
    """A config value that reaches an email header: refused (not silently cleaned) when it
    holds a control character or is longer than ``limit`` characters."""
    bad = control_characters(value)
    if bad is not None:
        raise ValueError(f"holds the control character {bad}; header text must be one plain line")
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters; at most {limit}")
    return value


def _mailbox(value: str) -> str:
    """One address, with or without a display name ("Name <addr@example.org>")."""
    from email.utils import getaddresses

    _header_bound(value, NAME_MAX + 320)
    found = getaddresses([value])
    if len(found) != 1 or not found[0][1] or "@" not in found[0][1]:
        raise ValueError(f"{value!r} is not an email address; write e.g. Name <name@example.org>")
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(found[0][1], check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{found[0][1]!r} is not a valid email address: {exc}") from exc
    return value


class Newsletter(_Section):
    name: str = "Briefing"
    sender: str = "Briefing <briefing@example.org>"
    reply_to: str | None = None
    postal_address: str = "Briefing, 1 Example Street, Example City"
    base_url: str = "http://127.0.0.1:8000"
    language: str = "en"

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if any(c.isspace() or not c.isprintable() or c in '<>"' for c in value):
            raise ValueError("must be a URL without spaces, quotes or control characters")
        return value.rstrip("/")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _header_bound(value, NAME_MAX)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _mailbox(value)

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str | None) -> str | None:
        return None if value is None else _mailbox(value)


class Storage(_Section):
    url: str = "sqlite:///var/briefing.db"


class Seeds(_Section):
    folder: str = "seeds"
    patterns: tuple[str, ...] = ("*.txt", "*.md", "*.html", "*.htm")
    boilerplate: tuple[str, ...] = Field(
        default=(),
        description="extra regular expressions; a line matching one is dropped from seeds",
    )

    @field_validator("boilerplate")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:

        for i, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"item {i} is not a valid regular expression: {exc}") from exc
        return value


class Feed(_Section):
    url: str
    name: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _header_bound(value, NAME_MAX)


class Fetch(_Section):
    timeout: float = Field(default=20.0, gt=0, description="seconds for a whole fetch")
    connect_timeout: float = Field(default=10.0, gt=0)
    max_bytes: int = Field(default=10_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    user_agent: str = "Briefing/0.1 (+https://example.org/briefing)"
    allow_private_addresses: bool = Field(
        default=False,
        description="let URLs from outside (the desk's link check) reach loopback, private "
        "and link-local addresses; for local testing only",
    )


class Topic(_Section):
    """A topic and the rules that decide which articles belong to it.

    ``terms`` maps a word or phrase to its weight; a trailing ``*`` matches any ending
    ("japan*" matches "Japanese"). Every group in ``require`` must match at least once
    (e.g. a Japan term AND a North Korea term); any ``exclude`` term rules an article out.
    """

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str
    description: str = ""
    terms: dict[str, float] = Field(default_factory=dict)
    require: tuple[tuple[str, ...], ...] = ()
    exclude: tuple[str, ...] = ()
    min_score: float = Field(default=4.0, ge=0)
    max_stories: int = Field(default=10, ge=1)

    @field_validator("terms")
    @classmethod
    def _terms(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("a topic needs at least one term")
        for term, weight in value.items():
            if not term.strip(" *"):
                raise ValueError(f"empty term {term!r}")
            if weight <= 0:
                raise ValueError(f"weight of {term!r} must be positive")
        return value


class IssueSettings(_Section):
    """How the next issue is put together and checked."""

    subject: str = Field(default="{top_story}", description="{name}, {top_story}, {date}, {number}")
    preheader: str = ""
    story_order: tuple[str, ...] = ("sources", "newest")
    same_story_similarity: float = Field(default=0.45, gt=0, le=1)
    max_html_bytes: int = Field(default=90_000, gt=0)
    templates: str | None = Field(
        default=None, description="a folder whose templates override the shipped ones"
    )

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _header_bound(value, SUBJECT_MAX)

    @field_validator("preheader")
    @classmethod
    def _preheader(cls, value: str) -> str:
        return _header_bound(value, PREHEADER_MAX)

    @field_validator("story_order")
    @classmethod
    def _order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        allowed = {"sources", "newest", "score", "oldest"}
        bad = [v for v in value if v not in allowed]
        if bad:
            raise ValueError(f"unknown order key(s) {bad}; use {sorted(allowed)}")
        return value


class Security(_Section):
    """Where the signing secrets come from: never from this file.

    ``secret_env`` names an environment variable holding one or more secrets separated by
    commas (the first signs, all verify: rotate by putting the new one first). Without it,
    ``secret_file`` is read (one secret per line); if that file does not exist it is
    created with a random secret, readable only by its owner.
    """

    secret_env: str = "BRIEFING_SECRET"
    secret_file: str = "var/secret"
    # the key of the suppression list's HMACs: its own, so it never rotates with the
    # signing secrets (a new key would let every forgotten address back in)
    suppression_key_env: str = "BRIEFING_SUPPRESSION_KEY"
    suppression_key_file: str = "var/suppression-key"


class Subscriptions(_Section):
    consent_text: str = "Yes, send me the weekly briefing by email. I can unsubscribe at any time."
    consent_version: str = "1"
    confirm_days: int = Field(default=7, ge=1)
    pending_days: int = Field(
        default=30, ge=1, description="an unconfirmed request is deleted after this many days"
    )
    rate_limit_per_minute: int = Field(default=5, ge=1, description="subscribe requests per client")

    @model_validator(mode="after")
    def _pending_outlives_the_link(self) -> Subscriptions:
        if self.pending_days < self.confirm_days:
            raise ValueError(
                f"pending_days ({self.pending_days}) is shorter than confirm_days "
                f"({self.confirm_days}): a request would be deleted while its link still works"
            )
        return self


class Web(_Section):
    """`briefing serve`: the proxy it trusts and how long it waits for slow clients."""

    forwarded_allow_ips: tuple[str, ...] = Field(
        default=(),
        description="addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; '*' trusts any client (only when nothing but the "
        "proxy can reach the app)",
    )
    header_timeout: float = Field(default=10.0, gt=0, description="seconds for a request's head")
    body_timeout: float = Field(default=30.0, gt=0, description="seconds for a request's body")
    keep_alive_timeout: float = Field(
        default=5.0, gt=0, description="seconds an idle kept-alive connection stays open"
    )
    max_body_bytes: int = Field(default=65_536, ge=1024, description="larger bodies get 413")
    max_page_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="the desk's 'Paste a page' form alone takes a body this large (a page's "
        "text); larger gets 413",
    )

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # "10.0.0.1, 10.0.0.2" from an environment variable or a flag, as a list
        return (
            [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for item in value:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, '*')"
                ) from exc
        return value


class Delivery(_Section):
    url: str = "outbox://var/outbox"
    password_env: str | None = None
    password_file: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    workers: int = Field(default=2, ge=1, le=64, description="parallel SMTP connections")
    rate_per_second: float | None = Field(default=None, gt=0)
    rate_per_hour: int | None = Field(default=None, gt=0)
    resend_ambiguous: bool = Field(
        default=True, description="resend a message whose fate a crash left unknown"
    )
    max_error_rate: float = Field(
        default=0.5, gt=0, le=1, description="pause the send above this share of refusals"
    )
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_key_env: str | None = None
    dkim_key_file: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("smtp://", "smtps://", "outbox://")):
            raise ValueError("must start with smtp://, smtps:// or outbox://")
        return value
