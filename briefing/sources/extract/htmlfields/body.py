"""The HTML path's body, less the headline, byline and dateline lines it opens with."""

from __future__ import annotations

import re

from briefing.sources.extract.htmlfields.shared import _BY, find_dates, norm
from briefing.sources.extract.language import Language
from briefing.sources.extract.model import FieldChoice


def trim_body(body: str, title: FieldChoice, author: FieldChoice, lang: Language) -> str:
    """The body less the headline, byline and dateline lines it opens with (they are fields,
    not the story's first paragraph)."""
    lines = body.split("\n")
    names = author.text.split(" and ") if author.text else []
    cut = 0
    for line in lines[:4]:
        text = line.strip()
        n = len(text.split())
        if (
            not text
            or (title.text and norm(text) == norm(title.text))
            or (
                n <= 15
                and (names and all(norm(x) in norm(text) for x in names[:1]))
                and (_BY.match(text) or n <= len(" ".join(names).split()) + 6)
            )
            or (n <= 10 and find_dates(text, lang) and not re.search(r"[.!?]$", text))
        ):
            cut += 1
        else:
            break
    return "\n".join(lines[cut:]).lstrip("\n")
