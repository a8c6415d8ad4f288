"""Settings: the one place that reads the config file and BRIEFING_* variables.

Layers, each overriding the one before: built-in defaults -> ``briefing.toml`` ->
``BRIEFING_<SECTION>_<KEY>`` environment variables -> command-line flags.
Everything is validated at load; an error names the key and the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

from briefing.errors import ConfigError
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
        import re

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


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as APScheduler's cron names them
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# each duration's allowed range: (at least, under)
_DURATION_RANGES = {
    "ingest_every": (timedelta(minutes=1), None),
    "draft_before": (timedelta(0), timedelta(days=7)),
    "expire_after": (timedelta(minutes=1), timedelta(days=7)),
    "retry_every": (timedelta(seconds=30), None),
}
_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)")


def parse_duration(value: str) -> timedelta:
    """ "90s", "30m", "6h", "1d", "1h30m" -> a timedelta."""
    text = value.strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 30m, 6h, 1d or 1h30m")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    return sum((timedelta(**{unit[u]: int(n)}) for n, u in parts), timedelta())


def _say(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Schedule(_Section):
    """The weekly cycle that `briefing schedule run` keeps.

    ``send`` is the weekly send time ("mon 07:00") in ``timezone``. Feeds are read every
    ``ingest_every``; ``draft_before`` the send the draft is built and a proof goes to
    ``editors``. With ``require_approval`` an unapproved issue is not sent: the editors
    are told and the send is tried again every ``retry_every`` until ``expire_after``
    past the planned time, when the issue is marked expired. Without it the scheduler
    approves the issue itself and records that it did. ``deliver_in_subscriber_timezone``:
    each subscriber gets the issue at the send time in their own timezone.
    """

    send: str = "mon 07:00"
    timezone: str = "UTC"
    ingest_every: str = "1h"
    draft_before: str = "24h"
    editors: tuple[str, ...] = ()
    require_approval: bool = True
    expire_after: str = "6h"
    retry_every: str = "10m"
    deliver_in_subscriber_timezone: bool = False

    @field_validator("send")
    @classmethod
    def _send(cls, value: str) -> str:
        m = re.fullmatch(r"\s*([a-zA-Z]+)\s+(\d{1,2}):(\d{2})\s*", value)
        day = m.group(1).lower() if m else ""
        if not m or len(day) < 3 or not any(full.startswith(day) for full in _DAY_NAMES):
            raise ValueError(f'{value!r}: write a weekday and a 24-hour time, e.g. "mon 07:00"')
        hour, minute = int(m.group(2)), int(m.group(3))
        if hour > 23 or minute > 59:
            raise ValueError(
                f'{value!r}: {hour:02d}:{minute:02d} is not a time of day; write e.g. "mon 07:00"'
            )
        return f"{day[:3]} {hour:02d}:{minute:02d}"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as Europe/London"
            ) from exc
        return value

    @field_validator("ingest_every", "draft_before", "expire_after", "retry_every")
    @classmethod
    def _duration(cls, value: str, info: ValidationInfo) -> str:
        length = parse_duration(value)
        low, high = _DURATION_RANGES[str(info.field_name)]
        if length < low:
            raise ValueError(f"{value!r} is too short: at least {_say(low)}")
        if high is not None and length >= high:
            raise ValueError(f"{value!r} is too long: under {_say(high)}")
        return value

    @field_validator("editors")
    @classmethod
    def _editors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from briefing.subscribers import InvalidAddress, normalize_email

        try:
            return tuple(normalize_email(v) for v in value)
        except InvalidAddress as exc:  # a ValueError, so the error names the key and file
            raise ValueError(exc.message) from exc

    @property
    def weekday(self) -> int:
        return DAYS.index(self.send[:3])

    @property
    def time(self) -> dt_time:
        hour, minute = self.send[4:].split(":")
        return dt_time(int(hour), int(minute))

    @property
    def tz(self) -> ZoneInfo:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def duration(self, name: str) -> timedelta:
        return parse_duration(getattr(self, name))


class Settings(_Section):
    """The whole, validated configuration. ``root`` is where relative paths start."""

    newsletter: Newsletter = Newsletter()
    storage: Storage = Storage()
    seeds: Seeds = Seeds()
    feeds: tuple[Feed, ...] = ()
    fetch: Fetch = Fetch()
    topics: tuple[Topic, ...] = ()
    issue: IssueSettings = IssueSettings()
    schedule: Schedule = Schedule()
    delivery: Delivery = Delivery()
    security: Security = Security()
    subscriptions: Subscriptions = Subscriptions()
    web: Web = Web()
    root: Path = Path(".")
    source: str = "built-in defaults"

    def path(self, value: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @field_validator("topics")
    @classmethod
    def _unique_slugs(cls, value: tuple[Topic, ...]) -> tuple[Topic, ...]:
        slugs = [t.slug for t in value]
        dupes = sorted({s for s in slugs if slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"topic slug(s) used twice: {', '.join(dupes)}")
        return value

    def secrets(self, env: Mapping[str, str] | None = None) -> list[str]:
        """The signing secrets, newest first (see Security)."""
        env = os.environ if env is None else env
        value = env.get(self.security.secret_env, "").strip()
        if value:
            found = [s.strip() for s in value.split(",") if s.strip()]
        else:
            path = self.path(self.security.secret_file)
            if not path.exists():
                create_secret_file(path)
            found = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        if not found or any(len(s) < 16 for s in found):
            raise ConfigError(
                f"signing secrets from {self.security.secret_env} or {self.security.secret_file} are missing or too short",
                "use at least 16 random characters, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
            )
        return found

    def secrets_would_be_created(self, env: Mapping[str, str] | None = None) -> Path | None:
        """The secret file that secrets() would create now (no variable, no file), if any."""
        env = os.environ if env is None else env
        if env.get(self.security.secret_env, "").strip():
            return None
        path = self.path(self.security.secret_file)
        return None if path.exists() else path

    def suppression_key(
        self, env: Mapping[str, str] | None = None, *, create: bool = True
    ) -> bytes | None:
        """The suppression list's HMAC key: ``suppression_key_env``, else the file
        ``suppression_key_file`` (created with a random key when ``create``). None when
        there is none and ``create`` is false."""
        env = os.environ if env is None else env
        value = env.get(self.security.suppression_key_env, "").strip()
        if not value:
            path = self.path(self.security.suppression_key_file)
            if not path.exists():
                if not create:
                    return None
                create_secret_file(path)
            value = path.read_text().strip()
        if len(value) < 16:
            raise ConfigError(
                f"the suppression key from {self.security.suppression_key_env} or "
                f"{self.security.suppression_key_file} is shorter than 16 characters",
                "restore the key from your backup (it keys the suppression list's hashes)",
            )
        return value.encode()

    @property
    def seeds_dir(self) -> Path:
        return self.path(self.seeds.folder)

    @property
    def database_url(self) -> str:
        """storage.url with a relative SQLite path made absolute against ``root``."""
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:" and not rest.startswith("file:"):
                return prefix + str(self.path(rest).resolve())
        return url


def create_secret_file(path: Path) -> None:
    """A new file holding one random secret, readable by its owner only, in a folder of
    its owner's only. Written whole under another name, then linked into place: processes
    starting together agree on one secret and never read a half-written file."""
    import secrets as _secrets

    from briefing.private import private_dir

    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{_secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(_secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink()


def find_config(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """--config, else BRIEFING_CONFIG, else ./briefing.toml if there is one."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"config file {path} does not exist",
                "pass an existing file to --config, or leave it out to use ./briefing.toml",
            )
        return path
    if env.get("BRIEFING_CONFIG"):
        path = Path(env["BRIEFING_CONFIG"])
        if not path.is_file():
            raise ConfigError(
                f"config file {path} (from BRIEFING_CONFIG) does not exist",
                "unset BRIEFING_CONFIG or point it at an existing file",
            )
        return path
    default = Path.cwd() / CONFIG_NAME
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "fix the line named above") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})",
            "a config file is TOML text saved as UTF-8; copy briefing.toml from the repo",
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc


def _env_layer(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """BRIEFING_STORAGE_URL=... -> {"storage": {"url": "..."}} for the known sections.
    A value that is a JSON list or table (``["*.md"]``) is read as JSON."""
    sections = {
        name
        for name, field in Settings.model_fields.items()
        if name not in {"root", "source", "feeds", "topics"}
    }
    layer: dict[str, dict[str, Any]] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == "BRIEFING_CONFIG":
            continue
        section, _, name = key[len(ENV_PREFIX) :].lower().partition("_")
        if section in sections and name:
            parsed: Any = value
            if value.strip().startswith(("[", "{")):
                try:
                    parsed = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise ConfigError(
                        f"{key} is not valid JSON: {exc}", "quote strings inside the list"
                    ) from exc
            layer.setdefault(section, {})[name] = parsed
    return layer


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def load_settings(
    config: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from the layers; ``overrides`` are the command-line flags."""
    env = os.environ if env is None else env
    path = find_config(config, env)
    data: dict[str, Any] = _read_toml(path) if path else {}
    env_layer = _env_layer(env)
    data = _merge(data, env_layer)
    data = _merge(data, overrides or {})
    data["root"] = path.resolve().parent if path else Path.cwd()
    data["source"] = str(path) if path else "built-in defaults"
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            where = str(path) if path else "built-in defaults"
            if (
                len(loc) >= 2
                and isinstance(loc[1], str)
                and loc[1] in env_layer.get(str(loc[0]), {})
            ):
                where = f"environment variable {ENV_PREFIX}{str(loc[0]).upper()}_{loc[1].upper()}"
            elif overrides and loc and str(loc[0]) in overrides:
                where = "the command line"
            extra = " (not a known key)" if err["type"] == "extra_forbidden" else ""
            msg = str(err["msg"]).removeprefix("Value error, ")  # keep the value's own case
            msg = msg[:1].lower() + msg[1:]
            problems.append(f"{_where(loc)}: {msg}{extra} [in {where}]")
        raise ConfigError(
            "invalid configuration: " + "; ".join(problems),
            "fix the key named above; README.md lists every key with its default",
        ) from exc
