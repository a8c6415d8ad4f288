"""Collect postlight/parser's saved article pages and the metadata its tests assert for them.

Usage: python gather_postlight.py POSTLIGHT_CHECKOUT WORKDIR
  POSTLIGHT_CHECKOUT: a checkout (or `git archive`) of https://github.com/postlight/parser with
                      fixtures/ and src/extractors/custom/ (the commit is in README.md)
  WORKDIR: scratch folder (e.g. /work/extract-data/work); writes WORKDIR/postlight.json

Each src/extractors/custom/<domain>/index.test.js reads one or more fixtures/<name>.html and asserts
what the site's extractor returns: title, author, date_published, dek, lead_image_url and the first
words of the content. Those assertions are read here by a sequential scan of the test file (the files
follow one template): the last `url = '...'` and `readFileSync('./fixtures/...')` seen before an
`assert.equal(<field>, <literal>)` say which page the value belongs to. The values are raw here;
build.py normalizes them, cross-checks them against the page and the dump, and applies curated.py.
"""

from __future__ import annotations

import json
import os
import re
import sys

from common import html_meta

# assert.equal's first argument -> the field it checks
FIELDS = {
    "title": "title",
    "author": "author",
    "date_published": "date_published",
    "new_date_published": "date_only",
    "newDatePublished": "date_only",
    "newDatePublished.split('T')[0]": "date_only",
    "date_published.split('T')[0]": "date_only",
    "moment(date_published).format('YYYY-MM-DD')": "date_only",
    "dek": "dek",
    "lead_image_url": "lead_image_url",
    "first13": "body_start",
    "excerpt": "excerpt",
}

_STR = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`"""
_LIT = rf"(?:{_STR})(?:\s*\+\s*(?:{_STR}))*|null|undefined"
EVENT = re.compile(
    r"readFileSync\(\s*'\./fixtures/(?P<fixture>[^']+)'"
    r"|\b(?:url|articleUrl|uri)\s*=\s*(?P<url>" + _STR + r")"
    r"|assert\.equal\(\s*(?P<var>[^,]+?)\s*,\s*(?P<lit>" + _LIT + r")\s*,?\s*\)",
    re.S,
)


def js_string(lit: str) -> str | None:
    """A JS literal (quoted strings joined by +, or null) -> its value."""
    if lit in ("null", "undefined"):
        return None
    out = []
    for m in re.finditer(_STR, lit, re.S):
        body = m.group(0)[1:-1]
        body = re.sub(
            r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\n|.)",
            lambda e: _unescape(e.group(1)),
            body,
        )
        out.append(body)
    return "".join(out)


def _unescape(e: str) -> str:
    if e.startswith("u{"):
        return chr(int(e[2:-1], 16))
    if e[0] in "ux" and len(e) > 1:
        return chr(int(e[1:], 16))
    return {"n": "\n", "t": "\t", "r": "", "\n": ""}.get(e, e)


def strip_comments(js: str) -> str:
    # line comments only (the templates' "// To pass this test..." lines); keep '//' inside strings
    return re.sub(r"^\s*//.*$", "", js, flags=re.M)


def parse_test(js: str) -> dict[str, dict[str, object]]:
    """fixture name -> {"url": ..., field: value, ...} from one index.test.js."""
    out: dict[str, dict[str, object]] = {}
    fixture = url = None
    for m in EVENT.finditer(strip_comments(js)):
        if m.group("fixture"):
            fixture = m.group("fixture")
            rec = out.setdefault(fixture, {})
            if url and "url" not in rec:
                rec["url"] = url
        elif m.group("url"):
            url = js_string(m.group("url"))
        elif m.group("var") and fixture:
            field = FIELDS.get(re.sub(r"\s+", "", m.group("var")).replace("\n", ""))
            if field:
                out[fixture].setdefault(field, js_string(m.group("lit")))
    return out


def main(checkout: str, work: str) -> None:
    custom = os.path.join(checkout, "src", "extractors", "custom")
    os.makedirs(work, exist_ok=True)
    items = []
    for dom in sorted(os.listdir(custom)):
        tf = os.path.join(custom, dom, "index.test.js")
        if not os.path.isfile(tf):
            continue
        with open(tf, encoding="utf-8") as f:
            parsed = parse_test(f.read())
        for fixture, rec in parsed.items():
            path = os.path.join(checkout, "fixtures", fixture)
            if not os.path.isfile(path):
                print("missing fixture", fixture, file=sys.stderr)
                continue
            with open(path, "rb") as f:
                raw = f.read()
            items.append(
                {
                    "key": "postlight_" + fixture.removesuffix(".html"),
                    "source_repo": "postlight/parser",
                    "source_path": f"fixtures/{fixture}",
                    "test_path": f"src/extractors/custom/{dom}/index.test.js",
                    "html_file": os.path.abspath(path),
                    "url": rec.get("url"),
                    "truth": {k: v for k, v in rec.items() if k != "url"},
                    "hm": html_meta(raw),
                }
            )
    with open(os.path.join(work, "postlight.json"), "w", encoding="utf-8") as f:
        json.dump(items, f, ensure_ascii=False, indent=1)
    print(len(items), "postlight pages gathered")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
