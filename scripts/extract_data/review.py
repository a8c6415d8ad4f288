"""Print pages' truth beside the first lines of their text dump, for checking by eye.

Usage: python review.py WORKDIR KEY_OR_REGEX [...] [--lines N] [--context] [--kept]
  WORKDIR: the scratch folder; reads WORKDIR/candidates.json (written by build.py) and
           WORKDIR/dumps/<key>.txt. Every page whose key matches one of the regexes is shown:
           its record, the checks it failed (if any), the page's meta hints, and the first N
           (default 40) non-empty lines of the dump. With --context, instead of the first lines:
           the dump lines that hold the title, an author name or the published date (as found by
           common.date_shown), with one line either side, and the number of each line.
           With --kept, only pages that passed the automatic checks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys

from common import date_shown, names, norm


def context(text: str, rec: dict[str, object]) -> list[str]:
    ls = text.splitlines()
    want = [norm(str(rec["title"]))] if rec.get("title") else []
    want += [norm(n) for n in names(rec.get("author"))]  # type: ignore[arg-type]
    if rec.get("published"):
        shown = date_shown(text, dt.date.fromisoformat(str(rec["published"])))
        if shown:
            want.append(norm(shown))
    hit = [i for i, ln in enumerate(ls) if any(w and w in norm(ln) for w in want)]
    keep = sorted({j for i in hit for j in (i - 1, i, i + 1) if 0 <= j < len(ls)})
    return [f"{j:4d} {ls[j][:150]}" for j in keep if ls[j].strip()][:30]


def main(work: str, pats: list[str], lines: int, ctx: bool, kept: bool) -> None:
    with open(os.path.join(work, "candidates.json"), encoding="utf-8") as f:
        cands = json.load(f)
    with open(os.path.join(work, "build_report.json"), encoding="utf-8") as f:
        left_out = json.load(f)["left_out"]
    for key, c in cands.items():
        if not any(re.search(p, key) for p in pats) or (kept and key in left_out):
            continue
        r, hm = c["rec"], c["hm"]
        print("=" * 100)
        print(key, "|", c.get("url"))
        for k in (
            "title",
            "author",
            "publisher",
            "published",
            "date_visible",
            "lang",
            "body_start",
        ):
            print(f"  {k:13}: {r.get(k)!r}")
        if r.get("body_with"):
            print(f"  {'body_with':13}: {r['body_with'][:2]!r}")
        print(f"  {'notes':13}: {r.get('notes')}")
        if c["flags"]:
            print("  FLAGS:", c["flags"])
        meta = hm.get("meta", {})
        hints = {k: meta[k][:2] for k in meta if re.search(r"author|publish|date|site_name", k)}
        print("  hints:", json.dumps(hints, ensure_ascii=False)[:600])
        print(
            "  h1:",
            hm.get("h1", [])[:2],
            "| ld:",
            [
                (x["type"], x["author"], x["datePublished"])
                for x in hm.get("ld", [])
                if x.get("datePublished") or x.get("author")
            ][:2],
        )
        print("-" * 100)
        with open(os.path.join(work, "dumps", key + ".txt"), encoding="utf-8") as f:
            text = f.read()
        if ctx:
            for ln in context(text, r):
                print("  |", ln)
            continue
        for ln in [ln for ln in text.splitlines() if ln.strip()][:lines]:
            print("  |", ln[:160])


if __name__ == "__main__":
    args = sys.argv[1:]
    n = 40
    ctx = "--context" in args
    if ctx:
        args.remove("--context")
    kept = "--kept" in args
    if kept:
        args.remove("--kept")
    if "--lines" in args:
        i = args.index("--lines")
        n = int(args[i + 1])
        del args[i : i + 2]
    if len(args) < 2:
        sys.exit(__doc__)
    main(args[0], args[1:], n, ctx, kept)
