"""The Jinja2 environment: a user's templates folder first, then the shipped templates/."""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from briefing.errors import BriefingError

SHIPPED = Path(__file__).resolve().parent.parent.parent / "templates"


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith((".txt", ".txt.j2"))


def make_environment(user_folder: Path | None = None) -> Environment:
    """One environment per templates folder, kept: Jinja2 caches compiled templates in it
    (and reloads a template whose file changed)."""
    if user_folder is not None and not user_folder.is_dir():
        raise BriefingError(
            f"templates folder {user_folder} does not exist",
            "create it, or remove issue.templates from the config",
        )
    return _environment(user_folder)


@functools.lru_cache(maxsize=8)
def _environment(user_folder: Path | None) -> Environment:
    loaders = []
    if user_folder is not None:
        loaders.append(FileSystemLoader(str(user_folder)))
    loaders.append(FileSystemLoader(str(SHIPPED)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def searched(user_folder: Path | None) -> str:
    return ", ".join(str(p) for p in ([user_folder] if user_folder else []) + [SHIPPED])


def load(env: Environment, name: str, user_folder: Path | None):  # type: ignore[no-untyped-def]
    try:
        return env.get_template(name)
    except TemplateNotFound as exc:
        raise BriefingError(
            f"template {name} not found (searched {searched(user_folder)})",
            "restore it in templates/ or add it to your templates folder",
        ) from exc
