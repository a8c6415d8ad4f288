"""Render saved HTML pages in headless Chromium and keep document.body.innerText as the text dump.

Usage: python render.py WORKDIR [SOURCE ...]
  WORKDIR: the scratch folder of the gather_*.py scripts (e.g. /work/extract-data/work); reads
           WORKDIR/<source>.json for each SOURCE (default: every *.json list there) and writes
           one dump per page to WORKDIR/dumps/<key>.txt. Pages already dumped are skipped, so an
           interrupted run can be resumed; delete WORKDIR/dumps to render everything again.

The rendering is the development corpus's (../shared/extract-corpus/build/render.py): Debian's
/usr/bin/chromium driven by Playwright through executable_path (no browser is downloaded),
JavaScript disabled, every request except the page itself aborted (no CSS, images, fonts or
scripts), a 1280x900 viewport, and document.body.innerText after the load event.

One addition: the corpus's pages were all UTF-8 and were served with `charset=utf-8`. Pages here
that are valid UTF-8 are served the same way; the others are served as their original bytes with no
charset in the header, so Chromium decodes them by their own <meta charset> as a browser would.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Route, sync_playwright

MAIN = "http://corpus.invalid/page.html"


def body_and_type(raw: bytes) -> tuple[bytes, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw, "text/html"
    return text.encode("utf-8"), "text/html; charset=utf-8"


def dump_text(page: Page, key: str) -> str:
    """body.innerText; '' when the page navigates away (a <meta http-equiv=refresh> to another URL)."""
    for _ in range(3):
        try:
            if page.url != MAIN:
                break
            return str(page.evaluate("() => document.body ? document.body.innerText : ''"))
        except PlaywrightError as e:
            print("evaluate warn", key, e, file=sys.stderr)
            page.wait_for_timeout(500)
    print("no dump", key, "- the page navigated to", page.url, file=sys.stderr)
    return ""


def render_all(items: list[dict[str, Any]], out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    todo = [it for it in items if not os.path.exists(os.path.join(out_dir, it["key"] + ".txt"))]
    print(f"{len(items)} pages, {len(todo)} to render", file=sys.stderr)
    blocked = 0
    with sync_playwright() as p:
        br = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        ctx = br.new_context(
            java_script_enabled=False,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        for n, it in enumerate(todo, 1):
            with open(it["html_file"], "rb") as f:
                body, ctype = body_and_type(f.read())
            page = ctx.new_page()

            def handler(
                route: Route, request: Request, body: bytes = body, ctype: str = ctype
            ) -> None:
                nonlocal blocked
                if request.url == MAIN:
                    route.fulfill(status=200, headers={"content-type": ctype}, body=body)
                else:
                    blocked += 1
                    route.abort()

            page.route("**/*", handler)
            try:
                page.goto(MAIN, wait_until="load", timeout=60000)
            except Exception as e:  # a slow page still has a body worth dumping
                print("goto warn", it["key"], e, file=sys.stderr)
            txt = dump_text(page, it["key"])
            page.close()
            tmp = os.path.join(out_dir, it["key"] + ".txt.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(txt)
            os.replace(tmp, os.path.join(out_dir, it["key"] + ".txt"))
            if n % 50 == 0:
                print(f"  {n}/{len(todo)}", file=sys.stderr)
        ctx.close()
        br.close()
    print("blocked requests:", blocked, file=sys.stderr)


def main(work: str, sources: list[str]) -> None:
    files = [os.path.join(work, s + ".json") for s in sources] or sorted(
        glob.glob(os.path.join(work, "*.json"))
    )
    items: list[dict[str, Any]] = []
    for fn in files:
        with open(fn, encoding="utf-8") as f:
            items += json.load(f)
    render_all(items, os.path.join(work, "dumps"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
