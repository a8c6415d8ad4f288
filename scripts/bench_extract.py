#!/usr/bin/env python3
"""Benchmark: Briefing's article extraction against ground truth, beside trafilatura.

Reads an extraction corpus (default ``../shared/extract-corpus`` relative to the repo):
``pages/*.txt`` (browser text dumps), ``html/*.html.gz`` (the same pages' HTML) and
``expected.json``. In one run it scores:

- ``text``: Briefing's text-dump path on every dump, as seed ingest runs it
  (``SeedParser``: the scored extractor merged with the older line heuristics);
- ``text_extractor``: the scored extractor alone (``extract_text``);
- ``html``: Briefing's HTML path (``extract_html``) on every HTML file;
- ``trafilatura``: ``trafilatura.bare_extraction`` with metadata on the same HTML.

Scoring follows the corpus README: title exact after NFKC, lowercase, collapsed
whitespace and straight quotes; author as a set of names split on "," and "and" (and
";", trafilatura's own separator); date as YYYY-MM-DD, correct / missed / invented; body
as bag-of-words precision, recall and F1 over lowercased ``\\w+`` tokens. For the text
date accuracy (``date``) is over the pages whose dump shows the date (``date_visible``),
for every path, as in issue 12's table; ``date_all`` is over every page with a date (an
HTML path can read an undisplayed date from the page's metadata). A date given where the
truth has none, or a different one, is invented (counted over every page, whatever the path).

The trafilatura reference runs in its best configuration on this corpus: metadata on,
``favor_recall`` (body F1 0.98 against 0.975 by default; the metadata is the same with
``favor_precision``, ``fast`` or default) and no comments (the truth holds none);
restricting its date search (``extensive_search=False``) loses dates, so it stays on.

A set with no full body truth (the outside set ``../extract-data``: ``body`` null, hand-picked
``body_with``/``body_without`` segments or a ``body_start``) is scored on those segments:
P is the share of unwanted segments absent, R the share of wanted ones present.

Each figure is printed for the whole corpus and for each half: even-numbered pages (the
development half the extractor was tuned on) and odd-numbered pages (held out).

Last line, one JSON object:
    {"pages": N, "text": {"title": x, "author": x, "publisher": x, "date": x,
     "dates_invented": n, "body_f1": x, "pages_per_s": x, "even": {...}, "odd": {...}},
     "html": {...}, "trafilatura": {...}}

Usage: .venv/bin/python scripts/bench_extract.py [CORPUS_DIR] [--show text|html|trafilatura]
       [--only NAME] [--outside DIR]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _shared_dir(root: Path) -> Path:
    """``../shared`` beside the repo; in a git worktree, beside the main checkout."""
    here = root.parent / "shared"
    dotgit = root / ".git"
    if not here.is_dir() and dotgit.is_file():  # a worktree: "gitdir: MAIN/.git/worktrees/X"
        gitdir = Path(dotgit.read_text("utf-8").split(":", 1)[1].strip())
        main = gitdir.parent.parent.parent
        if (main.parent / "shared").is_dir():
            return main.parent / "shared"
    return here


DEFAULT_CORPUS = _shared_dir(ROOT) / "extract-corpus"
DEFAULT_OUTSIDE = Path("/work/extract-data")  # the outside set, where it lies (never committed)
_WORD = re.compile(r"\w+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})


@dataclass
class Output:
    title: str | None
    author: str | None
    publisher: str | None
    date: str | None  # YYYY-MM-DD
    body: str


def norm(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    return " ".join(text.split())


def author_set(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    parts = re.split(r"\s*(?:,|;|\band\b)\s*", norm(text))
    return frozenset(p for p in parts if p)


def body_prf(output: str, truth: str) -> tuple[float, float, float]:
    out = Counter(w.lower() for w in _WORD.findall(output))
    ref = Counter(w.lower() for w in _WORD.findall(truth))
    overlap = sum(min(n, ref[w]) for w, n in out.items())
    p = overlap / sum(out.values()) if out else 0.0
    r = overlap / sum(ref.values()) if ref else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:10]


# -- the three extractors ------------------------------------------------------------------


def briefing_text(path: Path) -> Output:
    """What seed ingest stores: SeedParser (the extractor merged with the line heuristics)."""
    from briefing.errors import NoArticleError
    from briefing.sources.seed import SeedParser

    try:
        a = SeedParser().parse_file(path)
    except NoArticleError:
        return Output(None, None, None, None, "")
    return Output(a.title, a.author, a.publisher, _date(a.published), a.body)


def briefing_text_extractor(path: Path) -> Output:
    """The scored extractor alone (briefing.sources.extract.extract_text)."""
    from briefing.sources.extract import extract_text

    ex = extract_text(path.read_text("utf-8"), name=path.name)
    return Output(
        ex.title.value if ex.title.value else None,
        ex.author.text,
        ex.publisher.text,
        _date(ex.published.value),
        ex.body,
    )


def briefing_html(path: Path) -> Output:
    from briefing.sources.extract import extract_html

    ex = extract_html(gzip.decompress(path.read_bytes()), url=None, name=path.name)
    return Output(
        ex.title.text, ex.author.text, ex.publisher.text, _date(ex.published.value), ex.body
    )


def trafilatura_html(path: Path) -> Output:
    import trafilatura

    found = trafilatura.bare_extraction(
        gzip.decompress(path.read_bytes()),
        with_metadata=True,
        include_comments=False,
        favor_recall=True,
    )
    if not found:
        return Output(None, None, None, None, "")
    doc = found if isinstance(found, dict) else found.as_dict()
    return Output(
        doc.get("title"),
        doc.get("author"),
        doc.get("sitename"),
        _date(doc.get("date")),
        doc.get("text") or "",
    )


# -- scoring --------------------------------------------------------------------------------


@dataclass
class PageScore:
    key: str
    half: str
    title: bool
    author: bool
    publisher: bool
    date_counted: bool  # the page counts for date accuracy (its dump shows the date)
    date_ok: bool
    dated: bool  # the truth has a date (shown or not)
    dated_ok: bool
    invented: bool
    body: tuple[float, float, float]
    out: Output


def split_of(key: str, exp: dict[str, Any]) -> str:
    """The outside set's halves: "train" for two pages in three, "test" for the rest, by a
    hash of the source path (stable when the set is renumbered); the set's own "split"
    field wins when it has one. scripts/train_extract.py trains on "train" only."""
    stable = str(exp.get("source_path") or key).encode()
    return str(
        exp.get("split") or ("train" if int(hashlib.sha1(stable).hexdigest(), 16) % 3 else "test")
    )


def score(
    key: str, out: Output, exp: dict[str, Any], *, text_path: bool, half: str | None = None
) -> PageScore:
    truth_date = exp["published"]
    counted = truth_date is not None and exp["date_visible"]
    invented = out.date is not None and out.date != truth_date
    return PageScore(
        key=key,
        half=half or ("even" if int(key[:3]) % 2 == 0 else "odd"),
        title=norm(out.title) == norm(exp["title"]),
        author=author_set(out.author) == author_set(exp["author"]),
        publisher=norm(out.publisher) == norm(exp["publisher"]),
        date_counted=counted,
        date_ok=counted and out.date == truth_date,
        dated=truth_date is not None,
        dated_ok=truth_date is not None and out.date == truth_date,
        invented=invented,
        body=body_prf(out.body, exp["body"]) if exp.get("body") else _segments(out.body, exp),
        out=out,
    )


def _segments(body: str, exp: dict[str, Any]) -> tuple[float, float, float]:
    """Without a full body truth (the outside set): the share of its ``body_without``
    segments left out (precision-like), of its ``body_with`` segments found (recall-like)
    and their harmonic mean; a ``body_start`` counts as one segment to find."""
    flat = " ".join(body.split())
    found = [" ".join(s.split()) in flat for s in exp.get("body_with") or []]
    if exp.get("body_start"):
        found.append(" ".join(str(exp["body_start"]).split())[:60] in flat)
    absent = [" ".join(s.split()) not in flat for s in exp.get("body_without") or []]
    p = sum(absent) / len(absent) if absent else (1.0 if flat else 0.0)
    r = sum(found) / len(found) if found else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def summary(scores: list[PageScore], seconds: float | None = None) -> dict[str, Any]:
    n = len(scores) or 1
    dated = [s for s in scores if s.date_counted]
    res: dict[str, Any] = {
        "title": round(sum(s.title for s in scores) / n, 3),
        "author": round(sum(s.author for s in scores) / n, 3),
        "publisher": round(sum(s.publisher for s in scores) / n, 3),
        "date": round(sum(s.date_ok for s in dated) / (len(dated) or 1), 3),
        "date_all": round(sum(s.dated_ok for s in scores) / (sum(s.dated for s in scores) or 1), 3),
        "dates_invented": sum(s.invented for s in scores),
        "body_p": round(sum(s.body[0] for s in scores) / n, 3),
        "body_r": round(sum(s.body[1] for s in scores) / n, 3),
        "body_f1": round(sum(s.body[2] for s in scores) / n, 3),
    }
    if seconds is not None:
        res["pages_per_s"] = round(len(scores) / seconds, 1) if seconds else None
    return res


def run(
    name: str,
    extractor: Callable[[Path], Output],
    files: list[tuple[str, Path]],
    expected: dict[str, Any],
    *,
    text_path: bool,
) -> tuple[dict[str, Any], list[PageScore]]:
    outputs: list[tuple[str, Output]] = []
    errors: list[str] = []
    start = time.perf_counter()
    for key, path in files:
        try:
            outputs.append((key, extractor(path)))
        except Exception as exc:  # a crash scores as an empty result, and is shown
            errors.append(f"{key}: {type(exc).__name__}: {exc}")
            outputs.append((key, Output(None, None, None, None, "")))
    seconds = time.perf_counter() - start
    scores = [score(k, o, expected[k], text_path=text_path) for k, o in outputs]
    res = summary(scores, seconds)
    for half in ("even", "odd"):
        res[half] = summary([s for s in scores if s.half == half])
    if errors:
        res["errors"] = len(errors)
        for e in errors:
            print(f"  [{name}] error {e}", file=sys.stderr)
    return res, scores


def run_outside(folder: Path) -> dict[str, Any]:
    """Briefing's text path on the outside set's pages read by eye, each half apart (the
    body scored by its with/without segments, see ``_segments``)."""
    expected: dict[str, Any] = json.loads((folder / "expected.json").read_text("utf-8"))
    keys = [k for k in sorted(expected) if (folder / "pages" / k).is_file()]
    outputs = []
    start = time.perf_counter()
    for key in keys:
        try:
            outputs.append((key, briefing_text(folder / "pages" / key)))
        except Exception as exc:
            print(f"  [outside] error {key}: {type(exc).__name__}: {exc}", file=sys.stderr)
            outputs.append((key, Output(None, None, None, None, "")))
    seconds = time.perf_counter() - start
    scores = [
        score(k, o, expected[k], text_path=True, half=split_of(k, expected[k])) for k, o in outputs
    ]
    res: dict[str, Any] = {"pages": len(scores), "text": summary(scores, seconds)}
    for half in ("train", "test"):
        res["text"][half] = summary([s for s in scores if s.half == half])
    return res


def show(scores: list[PageScore], expected: dict[str, Any]) -> None:
    for s in scores:
        exp = expected[s.key]
        marks = []
        if not s.title:
            marks.append(f"title={s.out.title!r} want {exp['title']!r}")
        if not s.author:
            marks.append(f"author={s.out.author!r} want {exp['author']!r}")
        if not s.publisher:
            marks.append(f"publisher={s.out.publisher!r} want {exp['publisher']!r}")
        if (s.dated and not s.dated_ok) or s.invented:
            marks.append(f"date={s.out.date!r} want {exp['published']!r}")
        if s.body[2] < 0.9:
            marks.append(f"body P/R/F={s.body[0]:.2f}/{s.body[1]:.2f}/{s.body[2]:.2f}")
        if marks:
            print(f"{s.key}:\n    " + "\n    ".join(marks))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    names = ["text", "text_extractor", "html", "trafilatura"]
    ap.add_argument("--show", choices=names, action="append", default=[])
    ap.add_argument("--only", choices=[*names, "outside"], action="append")
    ap.add_argument(
        "--outside",
        type=Path,
        default=DEFAULT_OUTSIDE,
        help="an outside set in the same layout (text path only, by its train/test halves)",
    )
    args = ap.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "expected.json").is_file():
        print(f"error: {corpus}/expected.json not found", file=sys.stderr)
        print("hint: pass the corpus folder (pages/, html/, expected.json)", file=sys.stderr)
        return 1
    expected: dict[str, Any] = json.loads((corpus / "expected.json").read_text("utf-8"))
    keys = sorted(expected)
    texts = [(k, corpus / "pages" / k) for k in keys]
    htmls = [(k, corpus / "html" / (k[:-4] + ".html.gz")) for k in keys]
    results: dict[str, Any] = {"pages": len(keys)}
    runs = [
        ("text", briefing_text, texts, True),
        ("text_extractor", briefing_text_extractor, texts, True),
        ("html", briefing_html, htmls, False),
        ("trafilatura", trafilatura_html, htmls, False),
    ]
    for name, fn, files, text_path in runs:
        if args.only and name not in args.only:
            continue
        res, scores = run(name, fn, files, expected, text_path=text_path)
        results[name] = res
        if name in args.show:
            show(scores, expected)
    outside: Path = args.outside
    if (outside / "expected.json").is_file() and (not args.only or "outside" in args.only):
        results["outside"] = run_outside(outside)
    header = f"{'':20} {'title':>6} {'author':>6} {'publ.':>6} {'date':>6} {'d.all':>6} {'inv.':>5} {'P':>5} {'R':>5} {'F1':>5} {'pages/s':>8}"
    print(header)
    rows = [(name, part) for name in names if name in results for part in ("all", "even", "odd")]
    if "outside" in results:
        rows += [("outside", part) for part in ("train", "test")]
    for name, part in rows:
        if name == "outside":
            r = results["outside"]["text"][part]
            label = f"outside text:{part}"
        else:
            r = results[name] if part == "all" else results[name][part]
            label = f"{name}:{part}" if part != "all" else name
        pps = f"{r['pages_per_s']:>8}" if "pages_per_s" in r else ""
        print(
            f"{label:20} {r['title']:>6.3f} {r['author']:>6.3f} {r['publisher']:>6.3f} "
            f"{r['date']:>6.3f} {r['date_all']:>6.3f} {r['dates_invented']:>5} "
            f"{r['body_p']:>5.3f} {r['body_r']:>5.3f} {r['body_f1']:>5.3f} {pps}"
        )
    if "outside" in results:
        print("(outside: the text path on the outside set's pages read by eye; body P/R/F1 there "
              "are the shares of its body_without segments left out and body_with found)")  # fmt: skip
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
