"""A corpus of realistic page dumps (tests/data/seed_corpus) against what an editor would say.

Each ``NAME.txt`` is a select-all copy of an invented news, blog or think-tank page,
with its furniture (cookie banners, share bars, "Most read" lists, newsletter boxes,
copyright lines...). ``expected.json`` gives, per file, the fields a careful human
editor would extract. Every mismatch in a file is reported together, each naming the
field with its actual and expected values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from briefing.models import Article, published_iso
from briefing.sources.seed import SeedParser

CORPUS = Path(__file__).parent / "data" / "seed_corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))

SCALAR_FIELDS = (
    "title",
    "publisher",
    "author",
    "ai_generated",
    "ai_disclosure",
    "reading_time_min",
)


def _cases() -> list[Any]:
    return [pytest.param(name, EXPECTED[name], id=name) for name in sorted(EXPECTED)]


def _mismatches(article: Article, exp: dict[str, Any]) -> list[str]:
    problems: list[str] = []

    gaps = exp.get("known_gaps", {})

    def check(field: str, actual: Any, expected: Any) -> None:
        if field in gaps:
            # a known limitation, written down in expected.json with its reason; if the
            # parser starts getting it right, the entry must be removed
            if actual == expected:
                problems.append(f"{field}: now correct; remove it from known_gaps")
            return
        if actual != expected:
            problems.append(f"{field}: actual={actual!r} expected={expected!r}")

    for field in SCALAR_FIELDS:
        check(field, getattr(article, field), exp[field])
    check("published", published_iso(article.published), exp["published"])

    paragraphs = article.body.split("\n\n") if article.body else [""]
    check("body_first", paragraphs[0][:40], exp["body_first"])
    check("body_last", paragraphs[-1][-40:], exp["body_last"])
    for boilerplate in exp["body_must_not_contain"]:
        if boilerplate in article.body:
            at = article.body.index(boilerplate)
            context = article.body[max(0, at - 30) : at + len(boilerplate) + 30]
            problems.append(
                f"body_must_not_contain: {boilerplate!r} is in the body (…{context!r}…)"
            )
    for kept in exp.get("body_must_contain", []):
        if kept not in article.body:
            problems.append(f"body_must_contain: {kept!r} is missing from the body")
    if "summary_startswith" in exp:
        if not article.summary.startswith(exp["summary_startswith"]):
            problems.append(
                f"summary_startswith: actual={article.summary[:80]!r} "
                f"expected to start with {exp['summary_startswith']!r}"
            )
        elif exp["summary_startswith"] in article.body:
            problems.append("summary_startswith: the standfirst is repeated in the body")
    return problems


def test_corpus_files_match_expectations() -> None:
    files = {p.name for p in CORPUS.glob("*.txt")}
    unmatched = files ^ set(EXPECTED)
    assert not unmatched, f"files without expectations or expectations without files: {unmatched}"


@pytest.mark.parametrize(("name", "exp"), _cases())
def test_seed_corpus(name: str, exp: dict[str, Any]) -> None:
    article = SeedParser().parse_file(CORPUS / name)
    problems = _mismatches(article, exp)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
