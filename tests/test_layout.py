"""The house rules that a reader of the code relies on, checked on the package itself."""

from __future__ import annotations

import ast
from pathlib import Path

import briefing

PACKAGE = Path(briefing.__file__).parent
LIMIT = 400


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_a_module_over_400_lines_says_at_its_top_why_it_is_one_module() -> None:
    unexplained = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) <= LIMIT:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if "Why one module" not in doc:
            unexplained.append(f"{path.relative_to(PACKAGE)} ({len(text.splitlines())} lines)")
    assert not unexplained, unexplained


def test_every_module_starts_with_a_docstring_saying_what_it_is_for() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in modules()
        if p.stat().st_size and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert not missing, missing


IMPORT_EACH_ALONE = """
import importlib, os, sys
for lib in ("sqlalchemy", "jinja2", "click", "mjml", "feedparser", "starlette", "lxml.html",
            "apscheduler", "email.mime.multipart", "numpy", "httpx", "uvicorn", "alembic", "argon2", "rich.console", "nh3", "pydantic",
            "css_inline", "minify_html", "email_validator", "dkim", "charset_normalizer"):
    try:  # third-party libraries: loaded once, before the forks
        importlib.import_module(lib)
    except ImportError:
        pass
groups = [g.split() for g in " ".join(sys.argv[1:]).split(" -- ")]
running, bad = {}, []
for group in groups:
    for name in group + [None] * 2:
        if len(running) >= 2 or (name is None and running):  # two at a time
            pid, status = os.wait()
            if status:
                bad.append(running[pid])
            del running[pid]
        if name is None:
            continue
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException as exc:
                print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
                os._exit(1)
            os._exit(0)
        running[pid] = name
    if not bad:  # this layer checked: loaded here once, before the forks of the next
        for name in group:
            importlib.import_module(name)
sys.exit(1 if bad else 0)
"""


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    """No import cycle hides behind the order modules happen to load in: each module,
    imported before any other of the package (as the CLI's lazy command loading does
    with its command's module), loads. A cycle that a full import order masks once made
    `briefing worker` fail at start.

    Layer by layer, from the bottom (pyproject's layers contract, which scripts/check
    enforces): a layer imports only the ones below it, so a cycle lies within one layer,
    and the layers below can be loaded once, before the forks that import this one's
    modules. Modules outside every layer go first, with nothing loaded."""
    import subprocess
    import sys
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"
    ]
    rank = {
        part.strip(): i for i, layer in enumerate(reversed(layers)) for part in layer.split(":")
    }
    groups: dict[int, list[str]] = {}
    for path in modules():
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] != "__main__":  # runs the CLI
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            top = parts[1] if len(parts) > 1 and parts[1] != "__init__" else ""
            groups.setdefault(rank.get(top, -1) if top else -1, []).append(name)
    args = " -- ".join(" ".join(groups[k]) for k in sorted(groups)).split()
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sum(len(g) for g in groups.values()) > 100 and len(groups) >= 5
