"""Article extraction from text dumps and HTML pages, with confidences and reasons.

Entry points: ``extract_text`` (a browser's text of a page, a seed file) and
``extract_html`` (a saved page, or bytes fetched from a URL). Both return an
``Extraction``: each of title, author, published and publisher as a ``FieldChoice``
(value, confidence 0..1, ``uncertain``, the reason, the winning candidate and the
runner-up), the body, and either ``no_article = None`` or the reason the page holds no
article. ``Extraction.explain()`` prints why; ``to_json()`` gives the same as data.
"""

from __future__ import annotations

from briefing.sources.extract.html import MAX_HTML_BYTES, decode_html, extract_html
from briefing.sources.extract.model import (
    FIELDS,
    UNCERTAIN_BELOW,
    Block,
    Candidate,
    Extraction,
    FieldChoice,
)
from briefing.sources.extract.text import extract_text

__all__ = [
    "FIELDS",
    "MAX_HTML_BYTES",
    "UNCERTAIN_BELOW",
    "Block",
    "Candidate",
    "Extraction",
    "FieldChoice",
    "decode_html",
    "extract_html",
    "extract_text",
]
