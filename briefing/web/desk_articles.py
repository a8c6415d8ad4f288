"""The desk's article pages, behind the sign-in like the rest of /desk:

- ``/desk/add``: "Add by URL" (the page is fetched under the fetch and address policies,
  extracted and stored) and "Paste a page" (a text dump, read exactly like a seed file,
  front matter included, with an optional URL). The paste form alone takes a body up to
  ``web.max_page_bytes`` (``PASTE_PATH``; web/app.py gives it that limit); every other form
  keeps ``web.max_body_bytes``.
- ``/desk/articles/{id}``: the article, how sure ingest is of each field and why (the
  stored explanation), its corrections, and a form to correct title, author, date,
  publisher and the AI flag. A correction is recorded and wins over every re-ingest.
- ``/desk/articles/{id}/draft``: refresh the open draft (or build one) so that it
  includes the article.

Every form carries the CSRF token; each control redirects (post/redirect/get) with its
message kept in the session. A failed add or correction is shown on the same page with
what was typed kept (a pasted page is not lost), and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from briefing import corrections
from briefing.config import Settings
from briefing.errors import BriefingError
from briefing.models import CONFIDENCE_FIELDS, Article
from briefing.services import accounts as editors
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import lookup
from briefing.sources.webpage import MAX_URL_CHARS
from briefing.web.security import CSRF_FIELD, Csrf, is_head, read_form

PASTE_PATH = "/desk/add/paste"
LABELS = {
    "title": "Title",
    "author": "Author",
    "published": "Date published",
    "publisher": "Publisher",
    "ai_generated": "Declared AI-generated",
}
_ARTICLE_ID = re.compile(r"[0-9a-f]{6,64}")


def article_routes(
    settings: Settings,
    engine: Engine,
    desk_page: Callable[..., HTMLResponse],
    *,
    csrf: Csrf,
    who: Callable[[Request], editors.Editor | None],
    session: Callable[[Request], str | None],
) -> list[Route]:
    page_limit = max(settings.web.max_page_bytes, settings.web.max_body_bytes)

    def to_login(target: str) -> Response:
        return RedirectResponse(f"/desk/login?next={quote(target)}", status_code=303)

    async def flash(request: Request, kind: str, text: str) -> None:
        await run_in_threadpool(editors.set_flash, engine, session(request), kind, text)

    async def said(request: Request) -> tuple[str | None, str | None]:
        if is_head(request):  # a HEAD (a prefetch) must not use the message up
            return None, None
        kept = await run_in_threadpool(editors.take_flash, engine, session(request))
        if not kept:
            return None, None
        return (kept[1], None) if kept[0] == "done" else (None, kept[1])

    def load(request: Request) -> Article | None:
        ref = request.path_params["article_id"]
        if not _ARTICLE_ID.fullmatch(ref):
            return None
        return lookup.article(engine, ref)

    # --- adding ---------------------------------------------------------------------------

    def add_form(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        defaults: dict[str, Any] = {
            "url": "",
            "paste_url": "",
            "text": "",
            "error": None,
            "flash": None,
            "problem": None,
        }
        return desk_page(
            request,
            "desk/add",
            status,
            editor=who(request),
            page_limit=page_limit,
            url_limit=MAX_URL_CHARS,
            **{**defaults, **context},
        )

    async def add(request: Request) -> Response:
        if who(request) is None:
            return to_login("/desk/add")
        done, problem = await said(request)
        return add_form(request, flash=done, problem=problem)

    async def added(request: Request, result: pipeline.Added, **kept: str) -> Response:
        r = result.report
        if result.article is None:
            reason = r.error or (r.warnings[0] if r.warnings else "nothing was stored")
            # the same words as `briefing ingest` and its hint; nothing was stored
            text = f"{r.source}: {reason}. {r.hint or ''}".strip() + " Nothing was stored."
            return add_form(request, 422, error=text, **kept)
        what = "added" if r.new else "updated" if r.updated else "already stored, unchanged"
        if r.duplicates:
            what = "stored as a duplicate of an article already there"
        note = " ".join(f"Note: {w}." for w in r.warnings)
        await flash(request, "done", f"{what}: {result.article.title}. {note}".strip())
        return RedirectResponse(f"/desk/articles/{result.article.id}", status_code=303)

    async def add_url(request: Request) -> Response:
        editor = who(request)
        if editor is None:
            return to_login("/desk/add")
        form = await read_form(request, {"url": MAX_URL_CHARS})
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        url = str(form.get("url") or "").strip()
        result = await run_in_threadpool(pipeline.add_page, settings, engine, url)
        return await added(request, result, url=url)

    async def add_paste(request: Request) -> Response:
        editor = who(request)
        if editor is None:
            return to_login("/desk/add")
        form = await read_form(request, {"text": page_limit, "paste_url": MAX_URL_CHARS})
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        text = str(form.get("text") or "")
        url = str(form.get("paste_url") or "").strip()
        kept = {"text": text, "paste_url": url}
        if not text.strip():
            return add_form(request, 422, error="Paste the page's text first.", **kept)
        if url:
            from briefing.sources.webpage import check_url

            try:
                check_url(url)
            except BriefingError as exc:
                return add_form(request, 422, error=f"{exc.message}. {exc.hint}", **kept)
        result = await run_in_threadpool(
            lambda: pipeline.add_paste(settings, engine, text, url=url or None)
        )
        return await added(request, result, **kept)

    # --- one article -------------------------------------------------------------------------

    def article_page(
        request: Request, a: Article, status: int = 200, **context: Any
    ) -> HTMLResponse:
        around = lookup.article_context(engine, a.id)
        history, held, open_issue = around.corrections, around.issues, around.open_issue
        return desk_page(
            request,
            "desk/article",
            status,
            editor=who(request),
            a=a,
            fields=field_rows(a),
            extraction=a.extraction,
            history=history[::-1],
            issues=held,
            open_issue=open_issue,
            in_open=open_issue is not None and any(n == open_issue.id for n, _ in held),
            values=context.pop("values", None) or form_values(a),
            **{"flash": None, "problem": None, **context},
        )

    async def show(request: Request) -> Response:
        if who(request) is None:
            return to_login(request.url.path)
        a = await run_in_threadpool(load, request)
        if a is None:
            return desk_page(request, "message", 404, title="No such article", text="")
        done, problem = await said(request)
        return await run_in_threadpool(
            lambda: article_page(request, a, flash=done, problem=problem)
        )

    async def correct(request: Request) -> Response:
        editor = who(request)
        back = f"/desk/articles/{request.path_params['article_id']}"
        if editor is None:
            return to_login(back)
        form = await read_form(request)
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        a = await run_in_threadpool(load, request)
        if a is None:
            return Response("no such article", status_code=404)
        typed = {f: str(form.get(f)) for f in corrections.EDITABLE if form.get(f) is not None}
        try:
            changes = wanted(a, typed, [str(f) for f in form.getlist("confirm")])
            if not changes:
                await flash(request, "done", "nothing changed")
                return RedirectResponse(back, status_code=303)
            done = await run_in_threadpool(
                editorial.correct_article, settings, engine, a.id, changes, by=editor.label
            )
        except BriefingError as exc:
            values = {**form_values(a), **typed}
            problem = f"{exc.message}. {exc.hint}"
            return await run_in_threadpool(
                lambda: article_page(request, a, 400, problem=problem, values=values)
            )
        text = "saved: " + ", ".join(c.field for c in done.corrections)
        if done.reopened:
            text += "; issue " + ", ".join(map(str, done.reopened)) + " is a draft again"
        await flash(request, "done", text)
        return RedirectResponse(back, status_code=303)

    async def into_draft(request: Request) -> Response:
        editor = who(request)
        back = f"/desk/articles/{request.path_params['article_id']}"
        if editor is None:
            return to_login(back)
        form = await read_form(request)
        if not csrf.ok(request, form.get(CSRF_FIELD)):
            return Response("CSRF token missing or wrong", status_code=403)
        a = await run_in_threadpool(load, request)
        if a is None:
            return Response("no such article", status_code=404)
        try:
            issue = await run_in_threadpool(
                lambda: editorial.draft(settings, engine, actor=editor.label)
            )
        except BriefingError as exc:
            await flash(request, "problem", exc.message)
            return RedirectResponse(back, status_code=303)
        inside = any(a.id in s.article_ids for s in issue.stories)
        if inside:
            text = f"issue {issue.id} refreshed: it includes {a.title}"
            await flash(request, "done", text)
            return RedirectResponse(f"/desk/issues/{issue.id}", status_code=303)
        await flash(
            request,
            "problem",
            f"issue {issue.id} refreshed, but this article is not in it: it matches no "
            "topic (see `briefing articles --json`, topic_matches), is a duplicate, or "
            "was sent already",
        )
        return RedirectResponse(back, status_code=303)

    return [
        Route("/desk/add", add),
        Route("/desk/add/url", add_url, methods=["POST"]),
        Route(PASTE_PATH, add_paste, methods=["POST"]),
        Route("/desk/articles/{article_id}", show),
        Route("/desk/articles/{article_id}/correct", correct, methods=["POST"]),
        Route("/desk/articles/{article_id}/draft", into_draft, methods=["POST"]),
    ]


def wanted(
    a: Article, typed: dict[str, str], confirmed: list[str]
) -> list[tuple[str, corrections.Value]]:
    """The corrections a submitted form asks for: each field whose checked value differs
    from the stored one, and each field the editor confirmed as right."""
    out: list[tuple[str, corrections.Value]] = []
    for field, raw in typed.items():
        value = corrections.check(field, raw)
        if value != corrections.current(a, field):
            out.append((field, value))
    changed = {f for f, _ in out}
    for field in confirmed:
        if field in CONFIDENCE_FIELDS and field not in changed:
            out.append((field, corrections.current(a, field)))
    return out


def form_values(a: Article) -> dict[str, str]:
    published = corrections.current(a, "published")
    return {
        "title": a.title,
        "author": a.author or "",
        "published": published.isoformat() if isinstance(published, date) else "",
        "publisher": a.publisher or "",
        "ai_generated": "true" if a.ai_generated else "false",
    }


def field_rows(a: Article) -> list[dict[str, Any]]:
    """Each field with its value, confidence, reason and the extractor's own reading."""
    read = ((a.extraction or {}).get("fields")) or {}
    rows = []
    for name in CONFIDENCE_FIELDS:
        value = getattr(a, name)
        said = a.confidence.get(name)
        choice = read.get(name) or {}
        rows.append(
            {
                "name": name,
                "label": LABELS[name],
                "value": value.isoformat() if hasattr(value, "isoformat") else value,
                "confidence": said.value if said else None,
                "reason": said.reason if said else "stored before confidences were kept",
                "uncertain": name in a.uncertain(),
                "chosen": choice.get("chosen"),
                "runner_up": choice.get("runner_up"),
                "refused": choice.get("refused") or [],
                "read": choice.get("value"),
            }
        )
    return rows
