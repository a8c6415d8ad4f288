"""Seed files: plain-text dumps of web pages turned into articles.

A dump is what "select all, copy" in a browser gives: site navigation, ad slots,
share bars, cookie banners, "Related Posts" lists, comments and copyright lines
around the article. The parser works line by line with generic heuristics (what a
headline, a byline, a date line, a label or a paragraph looks like, see
``page.py``) plus boilerplate patterns that the config can extend. It knows no
particular site.

Passes, in order: furniture (boilerplate, banners, copyright, AI notices) -> the
headline (the best-scoring candidate) -> the header under it (labels, byline,
dates, reading time, standfirst) -> comments, promo boxes and story lists -> the
site's own name standing alone. What is left is the body, less what the learned
extractor (``briefing.sources.extract``, run first) did not take for article text.

Optional front matter, TOML between ``+++`` lines at the very top, lets an editor
set or override ``url``, ``publisher``, ``author``, ``published``, ``ai_generated``
(and ``title``, ``dek``, ``summary``, ``labels``, ``ai_disclosure``).

Modules: ``parser`` (``SeedParser``: the entry points and the order of the passes),
``header`` (furniture, the headline and the header under it), ``lists`` (comments, promo
boxes, story lists, the site's name, the body's tail), ``article`` (the fields the line
heuristics read), ``merge`` (those merged with the extractor's), ``files`` (decoding, front
matter) and ``lines`` (the line and header records the passes share).
"""

from __future__ import annotations

from briefing.sources.page import DEFAULT_BOILERPLATE
from briefing.sources.seed.files import (
    FRONT_MATTER_KEYS,
    MAX_SEED_BYTES,
    decode_seed,
    split_front_matter,
)
from briefing.sources.seed.merge import SETTLED_CONFIDENCE, TRUST_EXTRACTOR, provenance
from briefing.sources.seed.parser import HTML_SUFFIXES, SeedParser

__all__ = [
    "DEFAULT_BOILERPLATE",
    "FRONT_MATTER_KEYS",
    "HTML_SUFFIXES",
    "MAX_SEED_BYTES",
    "SETTLED_CONFIDENCE",
    "TRUST_EXTRACTOR",
    "SeedParser",
    "decode_seed",
    "provenance",
    "split_front_matter",
]
