"""Collect trafilatura's hand-annotated evaluation pages, with htmldate's date annotations beside them.

Usage: python gather_trafilatura.py TRAFILATURA_CHECKOUT HTMLDATE_CHECKOUT WORKDIR
  TRAFILATURA_CHECKOUT: checkout of https://github.com/adbar/trafilatura (tests/evaldata.json,
                        tests/eval/, tests/cache/; the commit is in README.md)
  HTMLDATE_CHECKOUT:    checkout of https://github.com/adbar/htmldate (tests/eval_default.json)
  WORKDIR: scratch folder (e.g. /work/extract-data/work); writes WORKDIR/trafilatura.json

tests/evaldata.json maps each page URL to its file and to hand-picked text segments that the
extracted body must contain ("with") and must not contain ("without"); most entries also carry a
title, author and date. htmldate's tests/eval_default.json is an independent date annotation of
many of the same files (both come from the BBAW collection); it is kept as `htmldate_date` so
build.py can flag disagreements.

Left out here: entries without a title annotation, and every file named by a 32-hex-digit hash:
those are copies of the pages of scrapinghub's article-extraction-benchmark, which this data set
must not contain (it is kept untouched as an outside check).
"""

from __future__ import annotations

import json
import os
import re
import sys

from common import html_meta

HASH_NAME = re.compile(r"[0-9a-f]{32}\.html?")


def main(traf: str, hdate: str, work: str) -> None:
    with open(os.path.join(traf, "tests", "evaldata.json"), encoding="utf-8") as f:
        evaldata = json.load(f)
    with open(os.path.join(hdate, "tests", "eval_default.json"), encoding="utf-8") as f:
        hd = {v["file"]: v.get("date") for v in json.load(f).values()}
    items, skipped = [], {"hash-named (scrapinghub benchmark)": 0, "no title annotation": 0}
    for url, ann in evaldata.items():
        fn = ann["file"]
        if HASH_NAME.fullmatch(fn):
            skipped["hash-named (scrapinghub benchmark)"] += 1
            continue
        if not ann.get("title"):
            skipped["no title annotation"] += 1
            continue
        sub = next(
            s for s in ("cache", "eval") if os.path.isfile(os.path.join(traf, "tests", s, fn))
        )
        path = os.path.join(traf, "tests", sub, fn)
        with open(path, "rb") as f:
            raw = f.read()
        stem = re.sub(r"\.html?$", "", fn)
        items.append(
            {
                "key": "trafilatura_" + re.sub(r"[^A-Za-z0-9._-]+", "_", stem),
                "source_repo": "adbar/trafilatura",
                "source_path": f"tests/{sub}/{fn}",
                "html_file": os.path.abspath(path),
                "url": url,
                "truth": {
                    "title": ann.get("title"),
                    "author": ann.get("author"),
                    "date": ann.get("date"),
                    "sitename": ann.get("sitename"),
                    "with": ann.get("with"),
                    "without": ann.get("without"),
                    "htmldate_date": hd.get(fn),
                },
                "hm": html_meta(raw),
            }
        )
    with open(os.path.join(work, "trafilatura.json"), "w", encoding="utf-8") as f:
        json.dump(items, f, ensure_ascii=False, indent=1)
    print(len(items), "trafilatura pages gathered; skipped:", skipped)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
