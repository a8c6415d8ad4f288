"""Where the shipped templates are found, and a broken template as an error that names
its file and line (the wheel's own run of these is tests/e2e/test_wheel.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import briefing
from briefing.errors import BriefingError
from briefing.render.env import (
    SHIPPED,
    TEMPLATE_HINT,
    make_environment,
    render_template,
    shipped_templates,
)

REPO = Path(__file__).parent.parent


def test_a_checkout_renders_from_its_own_templates_folder() -> None:
    if (Path(briefing.__file__).parent / "templates").is_dir():
        pytest.skip("briefing is installed from a wheel here")
    assert shipped_templates() == SHIPPED == (REPO / "templates").resolve()


def own(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("one\ntwo {{ oops\n", 2, "has a syntax error"),
        ("one\n{% for x in %}\n", 2, "has a syntax error"),
        ("one\ntwo\n{{ missing.value }}\n", 3, "'missing' is undefined"),
        ("one\n{{ 1 // 0 }}\n", 2, "failed to render"),
        ('one\n\n{% include "nowhere.j2" %}\n', 3, "nowhere.j2 it uses was not found"),
    ],
)
def test_a_broken_template_names_its_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    folder = own(tmp_path, "email/issue.txt.j2", text)
    with pytest.raises(BriefingError) as caught:
        render_template(make_environment(folder), "email/issue.txt.j2", folder, {})
    message = caught.value.message
    assert message.startswith("template email/issue.txt.j2 "), message
    assert f"({folder / 'email' / 'issue.txt.j2'}, line {line})" in message, message
    assert words in message, message
    assert caught.value.hint == TEMPLATE_HINT


def test_an_error_in_an_included_template_names_that_one(tmp_path: Path) -> None:
    folder = own(tmp_path, "email/issue.txt.j2", 'top\n{% include "email/_part.j2" %}\n')
    own(tmp_path, "email/_part.j2", "a\nb\nc {{ nope() }}\n")
    with pytest.raises(BriefingError) as caught:
        render_template(make_environment(folder), "email/issue.txt.j2", folder, {})
    assert f"({folder / 'email' / '_part.j2'}, line 3)" in caught.value.message


def test_a_missing_template_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(BriefingError) as caught:
        render_template(make_environment(tmp_path), "email/nope.j2", tmp_path, {})
    assert str(tmp_path) in caught.value.message and str(SHIPPED) in caught.value.message


def test_a_good_template_renders_with_context_and_keywords(tmp_path: Path) -> None:
    folder = own(tmp_path, "x.txt.j2", "{{ a }} {{ b }}")
    assert render_template(make_environment(folder), "x.txt.j2", folder, {"a": 1}, b=2) == "1 2"
