"""The HTML path's choice of title, author, date and publisher, each with its reasons.

Every field has candidates from what the page declares (its article's JSON-LD,
OpenGraph and other meta tags, microdata, the ``<title>``) and from what it shows
(the headings, the byline and date elements between the headline and the body, the
sign-off line under it). A candidate scores by the trust of its source and by where it
sits; candidates from different sources that agree gain weight; a rule can refuse one
outright, whatever it scores, and the refusal is kept for ``--explain``.

- Title: the visible headline, found as the heading above the body that the page's
  declarations (``<title>``, ``og:title``, JSON-LD headline) name too; a heading that is
  the site's name, links to the home page or sits in a menu or sidebar is not it. The
  ``<title>`` loses the site's name (known from ``og:site_name``, the publisher, the
  domain) before it is compared.
- Author: names, not URLs, desks, staff or the site's name; a name the page declares
  but never shows is not a byline; several authors are joined with "and".
- Date: the published date (never the modified one) of the article's own metadata or
  of its header, byline or sign-off; a date in a sidebar, a related list, comments,
  an infobox or the footer is refused, and so is one in the future. A date with an
  offset keeps the page's own calendar day; one given in UTC yields to the day the
  page shows beside it. htmldate only confirms.
- Publisher: the article's JSON-LD publisher, then ``og:site_name`` (cleaned of a
  tagline or a byline), others confirming; a copyright holder is not the publisher.

The choosers live one to a module: ``title``, ``author``, ``published`` (the date),
``publisher`` and ``body`` (trimming the fields off its first lines), over what they share
in ``shared`` (the page's ``Context``, ``Zone``, the name and date helpers, the vote).
"""

from __future__ import annotations

from briefing.sources.extract.htmlfields.author import choose_author, clean_names
from briefing.sources.extract.htmlfields.body import trim_body
from briefing.sources.extract.htmlfields.published import choose_published
from briefing.sources.extract.htmlfields.publisher import choose_publisher, clean_site
from briefing.sources.extract.htmlfields.shared import (
    Context,
    Zone,
    byline_like,
    find_dates,
    fold,
    norm,
    sites_of,
)
from briefing.sources.extract.htmlfields.title import choose_title, split_title, strip_site

__all__ = [
    "Context",
    "Zone",
    "byline_like",
    "choose_author",
    "choose_published",
    "choose_publisher",
    "choose_title",
    "clean_names",
    "clean_site",
    "find_dates",
    "fold",
    "norm",
    "sites_of",
    "split_title",
    "strip_site",
    "trim_body",
]
