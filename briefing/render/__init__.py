"""Rendering an issue: Jinja2 -> MJML -> HTML (inlined, minified) and a plain-text part.

Compiled once per issue; each subscriber's links and name are spliced into the compiled
output (see ``compile.Personalizable``), never re-rendered.
"""

from __future__ import annotations

from briefing.render.compile import Personalizable, RenderedIssue, render_issue, render_web

__all__ = ["Personalizable", "RenderedIssue", "render_issue", "render_web"]
