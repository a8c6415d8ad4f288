"""The Jinja2 environment: a user's templates folder first, then the shipped templates.

The shipped templates are the repository's top-level ``templates/`` folder. A wheel (or
``pip install .``) puts it inside the package as ``briefing/templates``; a checkout or an
editable install (``pip install -e .``) reads the repository's folder itself, so an edit
there shows at once. ``shipped_templates()`` is the one place that decides which.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
)

import briefing
from briefing.errors import BriefingError

TEMPLATE_HINT = (
    "fix the template at that line, or remove it from your templates folder to use the shipped one"
)


def shipped_templates() -> Path:
    """The folder of shipped templates: ``briefing/templates`` next to the package's code
    when installed from a wheel, else the checkout's ``templates/`` (editable install)."""
    package = Path(briefing.__file__).resolve().parent
    inside = package / "templates"
    if inside.is_dir():
        return inside
    return package.parent / "templates"


SHIPPED = shipped_templates()


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


def _where(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line an error happened at. Jinja2 rewrites its tracebacks so
    that a template's frames carry the template's file name and line; the innermost one
    is where the error is (an included template's, if it was there)."""
    if isinstance(exc, TemplateSyntaxError) and (exc.filename or exc.name):
        return exc.filename or exc.name, exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith((".py", ".pyc")) and not frame.filename.startswith("<"):
            return frame.filename, frame.lineno
    return None, None


def template_error(name: str, exc: Exception) -> BriefingError:
    """A Jinja2 error (syntax, or one raised while rendering) as an error naming the
    template, its file and line, and what to do about it."""
    filename, line = _where(exc)
    if isinstance(exc, TemplateSyntaxError):
        what, detail = "has a syntax error", exc.message or str(exc)
    elif isinstance(exc, TemplateNotFound):
        what, detail = "failed to render", f"the template {exc.name} it uses was not found"
    else:
        what, detail = "failed to render", str(exc) or type(exc).__name__
    at = (
        f" ({filename}, line {line})" if filename and line else f" ({filename})" if filename else ""
    )
    return BriefingError(f"template {name} {what}{at}: {detail}", TEMPLATE_HINT)


def load(env: Environment, name: str, user_folder: Path | None) -> Template:
    try:
        return env.get_template(name)
    except TemplateNotFound as exc:
        if exc.name != name:  # the template is there; one it includes or extends is not
            raise template_error(name, exc) from exc
        raise BriefingError(
            f"template {name} not found (searched {searched(user_folder)})",
            "reinstall Briefing to restore the shipped templates, or add it to your templates folder",
        ) from exc
    except TemplateSyntaxError as exc:
        raise template_error(name, exc) from exc


def render_template(
    env: Environment,
    name: str,
    user_folder: Path | None,
    context: Mapping[str, Any] | None = None,
    /,
    **more: Any,
) -> str:
    """Load and render one template; any error in it (a syntax error found on loading, an
    undefined variable or a failing expression while rendering, in it or in a template it
    includes) becomes a BriefingError naming the template's file and line."""
    template = load(env, name, user_folder)
    try:
        return template.render({**(context or {}), **more})
    except BriefingError:
        raise
    except Exception as exc:  # anything a template expression raises
        raise template_error(name, exc) from exc
