"""The preview's checks: what an editor should fix before approving."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from briefing.models import IssueView
from briefing.render.compile import RenderedIssue

GMAIL_CLIP_BYTES = 102_000
SUBJECT_MAX = 78  # the RFC 5322 line advice; most inboxes show ~60
PREHEADER_RANGE = (40, 140)
_HREF = re.compile(r'href="([^"]*)"')


@dataclass(frozen=True)
class Finding:
    level: Literal["ok", "warning", "error"]
    check: str
    message: str
    article: str | None = None  # the article and field a finding is about, if one is
    field: str | None = None


def lint(
    rendered: RenderedIssue, view: IssueView, *, html: str, text: str, max_html_bytes: int
) -> list[Finding]:
    out: list[Finding] = []
    size = len(html.encode("utf-8"))
    if size > max_html_bytes:
        biggest = sorted(view.stories, key=lambda s: -len(s.lead.summary))[:3]
        cut = "; ".join(f"{s.lead.title[:60]!r} ({s.key[:8]})" for s in biggest)
        level: Literal["warning", "error"] = "error" if size >= GMAIL_CLIP_BYTES else "warning"
        out.append(
            Finding(
                level,
                "size",
                f"HTML is {size:,} bytes, over {max_html_bytes:,} (Gmail clips near "
                f"{GMAIL_CLIP_BYTES:,}): exclude a story or shorten summaries, e.g. {cut}",
            )
        )
    else:
        out.append(
            Finding(
                "ok",
                "size",
                f"HTML is {size:,} bytes (limit {max_html_bytes:,}; Gmail clips near {GMAIL_CLIP_BYTES:,})",
            )
        )
    unattributed = [a.title for a in view.articles if not a.publisher]
    if unattributed:
        out.append(
            Finding(
                "error",
                "attribution",
                f"{len(unattributed)} item(s) without a publisher: "
                + "; ".join(t[:60] for t in unattributed)
                + " (set publisher in front matter or the feed's name)",
            )
        )
    else:
        out.append(
            Finding("ok", "attribution", f"all {len(view.articles)} item(s) name their source")
        )
    ai = [a for a in view.articles if a.ai_generated]
    caveat_html = "AI-generated" in html
    caveat_text = "AI-generated" in text
    if ai and not (caveat_html and caveat_text):
        out.append(
            Finding(
                "error",
                "ai",
                "AI-declared items but no caveat in " + ("HTML" if not caveat_html else "text"),
            )
        )
    elif ai:
        flat = " ".join(text.split())  # the text part wraps lines
        missing = [
            a.title for a in ai if a.ai_disclosure and " ".join(a.ai_disclosure.split()) not in flat
        ]
        if missing:
            out.append(
                Finding(
                    "error",
                    "ai",
                    "AI label without the source's disclosure for: " + "; ".join(missing),
                )
            )
        else:
            out.append(Finding("ok", "ai", f"{rendered.ai_header}; caveat and labels present"))
    else:
        out.append(Finding("ok", "ai", "no item is declared AI-generated"))
    links = _HREF.findall(html)
    bad = sorted({u for u in links if not u.startswith(("https://", "http://", "mailto:"))})
    insecure = sorted({u for u in links if u.startswith("http://")})
    if bad:
        out.append(
            Finding(
                "error", "links", f"{len(bad)} link(s) that are not web links: {', '.join(bad[:5])}"
            )
        )
    elif insecure:
        out.append(
            Finding(
                "warning",
                "links",
                f"{len(links)} links; {len(insecure)} not https (e.g. {insecure[0]})",
            )
        )
    else:
        out.append(Finding("ok", "links", f"{len(links)} links, all https"))
    subject = rendered.subject
    if len(subject) > SUBJECT_MAX:
        out.append(
            Finding(
                "warning",
                "subject",
                f"subject is {len(subject)} characters; inboxes cut after ~60 "
                f"(it shows as {subject[:60]!r}…)",
            )
        )
    elif not subject:
        out.append(Finding("error", "subject", "the subject is empty"))
    else:
        out.append(Finding("ok", "subject", f"subject is {len(subject)} characters"))
    low, high = PREHEADER_RANGE
    n = len(rendered.preheader)
    if not low <= n <= high:
        out.append(
            Finding(
                "warning",
                "preheader",
                f"preheader is {n} characters; {low}-{high} reads best in an inbox",
            )
        )
    else:
        out.append(Finding("ok", "preheader", f"preheader is {n} characters"))
    out.extend(uncertain_fields(view))
    if not view.stories:
        out.append(Finding("error", "stories", "the issue has no stories"))
    return out


def uncertain_fields(view: IssueView) -> list[Finding]:
    """Each title, author, date or publisher that ingest is not sure of, story by story:
    a wrong one would reach every subscriber as fact, so the editor checks or corrects it."""
    flagged: list[Finding] = []
    for number, story in enumerate(view.stories, start=1):
        for a in story.articles:
            for field in a.uncertain():
                value = getattr(a, field)
                shown = value.isoformat() if hasattr(value, "isoformat") else str(value)
                message = (
                    f"story {number}: {field} uncertain ({a.confidence[field].value:.2f}): "
                    f"{shown[:80]!r} — check it or correct it"
                )
                flagged.append(Finding("warning", "uncertain", message, a.id, field))
    return flagged or [
        Finding("ok", "uncertain", "every title, author, date and publisher is sure or corrected")
    ]
