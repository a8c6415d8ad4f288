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
