"""Settings: the one place that reads the config file and BRIEFING_* variables.

Layers, each overriding the one before: built-in defaults -> ``briefing.toml`` ->
``BRIEFING_<SECTION>_<KEY>`` environment variables -> command-line flags.
Everything is validated at load; an error names the key and the file.

The sections are pydantic models in ``sections.py`` (``[schedule]`` in ``schedule.py``);
this module assembles them into ``Settings`` and loads the layers.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator

from briefing.config.schedule import (
    DAYS,
    Schedule,
    parse_duration,
)
from briefing.config.sections import (
    CONFIG_NAME,
    ENV_PREFIX,
    Delivery,
    Feed,
    Fetch,
    IssueSettings,
    Newsletter,
    Security,
    Seeds,
    Storage,
    Subscriptions,
    Topic,
    Web,
    _Section,
)
from briefing.errors import ConfigError

__all__ = [
    "CONFIG_NAME",
    "DAYS",
    "ENV_PREFIX",
    "Delivery",
    "Feed",
    "Fetch",
    "IssueSettings",
    "Newsletter",
    "Schedule",
    "Security",
    "Seeds",
    "Settings",
    "Storage",
    "Subscriptions",
    "Topic",
    "Web",
    "create_secret_file",
    "find_config",
    "load_settings",
    "parse_duration",
]


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
