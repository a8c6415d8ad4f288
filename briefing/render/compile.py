"""Compile an issue once, then personalize it per subscriber by splicing strings.

HTML: Jinja2 renders MJML; mjml-python compiles it; css-inline applies the rules of
``<mj-style inline="inline">`` (mjml-python leaves them in a <style> block); minify-html
shrinks the result keeping Outlook's conditional comments. The text part comes from its
own Jinja2 template with the same content.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import css_inline
import minify_html
import mjml

from briefing import placeholders
from briefing.config import Settings
from briefing.errors import BriefingError
from briefing.links import GENERIC_PREFERENCES, GENERIC_UNSUBSCRIBE, archive_url
from briefing.models import IssueView
from briefing.render.context import PLACEHOLDERS, ai_note, build_context, day_label, story_context
from briefing.render.env import make_environment, render_template

_INLINE_STYLE = re.compile(r"<mj-style\s+inline=[\"']inline[\"']\s*>(.*?)</mj-style>", re.S | re.I)


@dataclass(frozen=True)
class Personalizable:
    """Compiled output split on the placeholders: literal parts and slot names alternate."""

    parts: tuple[str, ...]
    escape: bool

    @classmethod
    def of(cls, text: str, *, escape: bool) -> Personalizable:
        return cls(tuple(placeholders.split(text)), escape)

    @property
    def slots(self) -> set[str]:
        return set(self.parts[1::2])

    def fill(self, values: dict[str, str]) -> str:
        out = list(self.parts)
        for i in range(1, len(out), 2):
            value = values[out[i]]
            out[i] = html.escape(value, quote=True) if self.escape else value
        return "".join(out)


@dataclass(frozen=True)
class RenderedIssue:
    subject: str
    preheader: str
    html: Personalizable
    text: Personalizable
    ai_header: str | None
    items: int
    ai_items: int
    language: str

    def personalize(self, values: dict[str, str]) -> tuple[str, str]:
        return self.html.fill(values), self.text.fill(values)


def _issue_context(view: IssueView, settings: Settings, now: datetime) -> dict[str, Any]:
    issue = view.issue
    return {
        "id": issue.id,
        "number": issue.id,
        "subject": issue.subject,
        "preheader": issue.preheader,
        "editor_note": issue.editor_note,
        "date_label": day_label(issue.sent_at or now),
        "web_url": web_url(settings, issue.id),
        "state": issue.state,
        "reviewed": issue.reviewed,
    }


def web_url(settings: Settings, issue_id: int) -> str:
    return archive_url(settings.newsletter.base_url, issue_id)


def _sections(view: IssueView) -> list[dict[str, Any]]:
    return [
        {
            "slug": sec.slug,
            "name": sec.name,
            "description": sec.description,
            "stories": [story_context(s) for s in sec.stories],
        }
        for sec in view.sections
    ]


def context_for(
    view: IssueView,
    settings: Settings,
    now: datetime,
    links: dict[str, str],
    proof: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **build_context(
            settings=settings,
            issue=_issue_context(view, settings, now),
            sections=_sections(view),
            articles=view.articles,
            links=links,
        ),
        "proof": proof,
    }


# An attribute holding a placeholder, e.g. href="@@=UNSUBSCRIBE_URL=@@"
_SLOT_ATTR = re.compile(r'\s*(\w[\w:-]*="[^"<>]*@@=[A-Z_]+=@@[^"<>]*")\s*')


def isolate_slots(html: str) -> str:
    """Put every attribute that holds a placeholder on a line of its own (whitespace
    between attributes means nothing in HTML), so that the message's quoted-printable
    encoding never wraps inside a link that differs per subscriber."""
    return _SLOT_ATTR.sub(lambda m: f"\n{m.group(1)}\n", html)


def compile_mjml(source: str) -> str:
    """MJML to email HTML: compiled, inline rules applied, minified with Outlook comments kept."""
    inline_css = "\n".join(m.group(1).strip() for m in _INLINE_STYLE.finditer(source))
    try:
        out = mjml.mjml2html(source)
    except Exception as exc:  # mjml-python raises plain exceptions with the parser's message
        raise BriefingError(
            f"the email template does not compile as MJML: {exc}",
            "check templates/email/*.mjml.j2 (or your override)",
        ) from exc
    if inline_css:
        # mjml-python keeps these rules in a <style> block; inline them and drop the block
        out = out.replace(f'<style type="text/css">{inline_css}</style>', "")
        inliner = css_inline.CSSInliner(
            inline_style_tags=False,
            keep_style_tags=True,
            load_remote_stylesheets=False,
            extra_css=inline_css,
        )
        out = inliner.inline(out)
    return str(
        minify_html.minify(
            out,
            keep_comments=True,
            minify_css=True,
            keep_html_and_head_opening_tags=True,
            keep_closing_tags=True,
        )
    )


def render_issue(
    view: IssueView,
    settings: Settings,
    *,
    now: datetime,
    templates: Path | None = None,
    proof: dict[str, Any] | None = None,
) -> RenderedIssue:
    """Compile the email once: HTML and text with per-subscriber placeholders left in.
    ``proof`` (for proofs to editors): how to approve the issue, shown at the top."""
    env = make_environment(templates)
    links = {**PLACEHOLDERS, "web": web_url(settings, view.issue.id)}
    context = context_for(view, settings, now, links, proof)
    html_out = isolate_slots(
        compile_mjml(render_template(env, "email/issue.mjml.j2", templates, context))
    )
    text_out = render_template(env, "email/issue.txt.j2", templates, context)
    for part, body in (("HTML", html_out), ("text", text_out)):
        if PLACEHOLDERS["unsubscribe"] not in body:
            raise BriefingError(
                f"the {part} template has no unsubscribe link",
                "templates must output {{ links.unsubscribe }} in the footer",
            )
    articles = view.articles
    ai_count = sum(1 for a in articles if a.ai_generated)
    return RenderedIssue(
        subject=view.issue.subject,
        preheader=view.issue.preheader,
        html=Personalizable.of(html_out, escape=True),
        text=Personalizable.of(text_out, escape=False),
        ai_header=ai_note(ai_count, len(articles)) if ai_count else None,
        items=len(articles),
        ai_items=ai_count,
        language=settings.newsletter.language,
    )


def render_web(
    view: IssueView, settings: Settings, *, now: datetime, templates: Path | None = None
) -> str:
    """The web version (archive page): same content, public links, JSON-LD per item."""
    env = make_environment(templates)
    base = settings.newsletter.base_url
    links = {
        "unsubscribe": base + GENERIC_UNSUBSCRIBE,
        "preferences": base + GENERIC_PREFERENCES,
        "name": "",
        "web": web_url(settings, view.issue.id),
    }
    return render_template(
        env, "web/issue.html.j2", templates, context_for(view, settings, now, links)
    )
