#!/usr/bin/env python3
"""Train the text-dump extractor's models and write briefing/sources/extract/weights.json.

Needs the ``train`` extra (scikit-learn): ``.venv/bin/pip install -e .[train]``.

Training pages, read where they lie (nothing third-party is copied into the repo):
- the even-numbered pages of the extraction corpus (``../shared/extract-corpus``); the
  odd ones are held out and only reported;
- the outside set (``/work/extract-data`` or ``--outside DIR``, same layout) when present:
  its ``split`` field says train or test (pages without one: by a hash of the name);
- our own dumps: tests/data/seed_corpus (with their expected fields) and seeds/.

Supervision comes from the ground truth: a line is body text when most of its word
trigrams stand in the true body; a headline, byline, date or publisher candidate is
right when its value equals the true field. The decisions are trained in order (body,
title, author, date, publisher), each on what the ones before it chose, as at runtime.

Usage: .venv/bin/python scripts/train_extract.py [--corpus DIR] [--outside DIR] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_extract import DEFAULT_CORPUS, DEFAULT_OUTSIDE, split_of  # noqa: E402

from briefing.sources.extract import learned  # noqa: E402

WEIGHTS = ROOT / "briefing" / "sources" / "extract" / learned.WEIGHTS_FILE
_W = re.compile(r"\w+")
# Our own dumps count more: the tests hold them exactly (they are few beside the others).
LOCAL_WEIGHT = 3.0
# Sets whose fields were checked by eye against the visible page. The outside set's "auto"
# part (trafilatura's evaluation pages, not read by eye) names authors the page often does
# not show: it trains the title, date and publisher rankings (it has no body truth), never
# the author model, and no threshold is tuned on it.
CHECKED = frozenset({"corpus", "local", "outside"})
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})


@dataclass
class Page:
    name: str
    source: str  # corpus | outside | local
    split: str  # train | test
    text: str
    truth: dict[str, Any]


def norm(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    return " ".join(text.split())


def load_corpus(folder: Path, source: str) -> list[Page]:
    if not (folder / "expected.json").is_file():
        return []
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    out = []
    for key, exp in sorted(expected.items()):
        path = folder / "pages" / key
        if not path.is_file():
            continue
        if source == "corpus":  # tuned on the even pages, the odd ones held out
            split = "train" if int(key[:3]) % 2 == 0 else "test"
        else:
            split = split_of(key, exp)
        out.append(Page(key, source, split, path.read_text("utf-8"), exp))
    return out


def load_local() -> list[Page]:
    """Our own dumps: the fields from tests/data/seed_corpus/expected.json (the two seeds: from
    what the parser gives today, which tests/test_seed.py holds); the body is the one the
    seed parser's line heuristics give, which those tests hold to its first and last words."""
    from briefing.sources.seed import SeedParser, split_front_matter

    parser = SeedParser()
    out = []
    folder = ROOT / "tests" / "data" / "seed_corpus"
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    files = [(folder / k, expected[k]) for k in sorted(expected)]
    files += [(p, None) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    for path, exp in files:
        raw = path.read_text("utf-8")
        front, text = split_front_matter(raw, path.name)
        legacy = parser._parse_lines(front, text, path.name)
        truth = {
            "title": exp["title"] if exp else legacy.title,
            "author": exp["author"] if exp else legacy.author,
            "publisher": exp["publisher"] if exp else legacy.publisher,
            "published": (exp["published"] if exp else None)
            or (legacy.published.isoformat()[:10] if legacy.published else None),
            "date_visible": True,
            "body": legacy.body,
        }
        if truth["published"]:
            truth["published"] = str(truth["published"])[:10]
        out.append(Page(path.name, "local", "train", text, truth))
    return out


# -- labels ---------------------------------------------------------------------------------


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def body_labels(texts: list[str], body: str) -> list[float]:
    """Per line: the share of its word trigrams (bigrams, words for short lines) found in
    the true body."""
    truth = [w.lower() for w in _W.findall(body)]
    grams = {n: set(ngrams(truth, n)) for n in (1, 2, 3)}
    out = []
    sizes = []
    for t in texts:
        toks = [w.lower() for w in _W.findall(t)]
        sizes.append(len(toks))
        if not toks:
            out.append(0.0)
            continue
        n = min(3, len(toks))
        gs = ngrams(toks, n)
        out.append(sum(1 for g in gs if g in grams[n]) / len(gs))
    # a line of one or two words ("Report", "Share") is body text only beside body text
    for i, size in enumerate(sizes):
        if 0 < size < 3 and out[i] > 0:
            above = next((out[j] for j in range(i - 1, -1, -1) if sizes[j] >= 3), 0.0)
            below = next((out[j] for j in range(i + 1, len(sizes)) if sizes[j] >= 3), 0.0)
            if above < 0.5 and below < 0.5:
                out[i] = 0.0
    return out


def bow_f1(output: str, truth: str) -> float:
    out = Counter(w.lower() for w in _W.findall(output))
    ref = Counter(w.lower() for w in _W.findall(truth))
    overlap = sum(min(n, ref[w]) for w, n in out.items())
    p = overlap / sum(out.values()) if out else 0.0
    r = overlap / sum(ref.values()) if ref else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


# -- fitting ----------------------------------------------------------------------------------


def fit_linear(
    rows: list[dict[str, float]], labels: list[bool], weights: list[float], c: float
) -> learned.Linear:
    """L2 logistic regression on standardized features, folded back onto the raw ones."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer(sparse=False)
    x = vec.fit_transform(rows)
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    keep = sd > 1e-9
    names = [n for n, k in zip(vec.get_feature_names_out(), keep, strict=True) if k]
    xs = (x[:, keep] - mu[keep]) / sd[keep]
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit(xs, np.array(labels), sample_weight=np.array(weights))
    coef = clf.coef_[0] / sd[keep]
    return learned.Linear(
        bias=float(clf.intercept_[0]),
        weights={n: float(w) for n, w in zip(names, coef, strict=True)},
        means={n: float(m) for n, m in zip(names, mu[keep], strict=True)},
    )


def fit_ranker(
    groups: list[tuple[list[dict[str, float]], list[bool]]],
    c: float,
    *,
    abstain: bool,
    group_weights: list[float] | None = None,
) -> learned.Linear:
    """A conditional logit: per page, a softmax over its candidates (and over "none of
    them", scored 0, when ``abstain``), fit by L-BFGS with an L2 penalty ``1/(2c)``."""
    import numpy as np
    from scipy.optimize import minimize
    from sklearn.feature_extraction import DictVectorizer

    vec = DictVectorizer(sparse=False)
    x = vec.fit_transform([f for rows, _ in groups for f in rows])
    mu, sd = x.mean(axis=0), x.std(axis=0)
    keep = sd > 1e-9
    names = [n for n, k in zip(vec.get_feature_names_out(), keep, strict=True) if k]
    xs = (x[:, keep] - mu[keep]) / sd[keep]
    spans, targets, gw = [], [], []
    at = 0
    for k, (rows, labels) in enumerate(groups):
        pos = np.array(labels, dtype=bool)
        if rows and (pos.any() or abstain):
            spans.append((at, at + len(rows)))
            targets.append(pos)
            gw.append(group_weights[k] if group_weights else 1.0)
        at += len(rows)
    d = xs.shape[1]

    def loss(theta: Any) -> tuple[float, Any]:
        w, b = theta[:d], theta[d]
        total, grad_w, grad_b = 0.0, np.zeros(d), 0.0
        for (lo, hi), pos, weight in zip(spans, targets, gw, strict=True):
            xg = xs[lo:hi]
            s = xg @ w + (b if abstain else 0.0)
            top = max(s.max(), 0.0) if abstain else s.max()
            e = np.exp(s - top)
            z = e.sum() + (np.exp(-top) if abstain else 0.0)
            p = e / z
            if pos.any():
                num = e[pos].sum()
                q = np.where(pos, e / num, 0.0)  # the target: the right candidates, pooled
            else:
                num = np.exp(-top)  # "none" is right
                q = np.zeros(len(s))
            total -= weight * np.log(num / z)
            diff = weight * (p - q)
            grad_w += xg.T @ diff
            grad_b += diff.sum()
        total += (w @ w) / (2 * c)
        grad_w += w / c
        return total, np.concatenate([grad_w, [grad_b if abstain else 0.0]])

    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B")
    w, b = res.x[:d], res.x[d]
    coef = w / sd[keep]
    return learned.Linear(
        bias=float(b) if abstain else 0.0,
        weights={n: float(v) for n, v in zip(names, coef, strict=True)},
        means={n: float(m) for n, m in zip(names, mu[keep], strict=True)},
    )


# -- the decisions ----------------------------------------------------------------------------


@dataclass
class Read:
    """A page as the extractor reads it."""

    page: Page
    lines: list[Any]  # briefing.sources.extract.lines.Line


def read_pages(pages: list[Page]) -> list[Read]:
    from briefing.normalize import clean_text
    from briefing.sources.extract.lines import read_dump
    from briefing.sources.extract.text import boilerplate_pattern

    pattern = boilerplate_pattern()
    return [Read(p, read_dump(clean_text(p.text), pattern).lines) for p in pages]


def readings(reads: list[Read]) -> list[tuple[Page, Any]]:
    """Each page read by the extractor as it stands (with the models trained so far)."""
    from briefing.normalize import clean_text
    from briefing.sources.extract import text

    return [(r.page, text.read(clean_text(r.page.text))) for r in reads]


def title_groups(read: list[tuple[Page, Any]]) -> list[tuple[Page, list[Any], list[bool]]]:
    from briefing.sources.extract import headline

    out = []
    for page, r in read:
        if r.ctx is None:
            continue
        cands = headline.candidates(r.ctx, r.opening, r.lang.stopwords)
        truth = norm(page.truth["title"])
        out.append((page, cands, [norm(str(c.value)) == truth for c in cands]))
    return out


def author_set(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    return frozenset(p for p in re.split(r"\s*(?:,|;|\band\b)\s*", norm(text)) if p)


def _title_at(r: Any) -> int | None:
    from briefing.sources.extract import headline

    choice = headline.title(r.ctx, r.opening, r.lang.stopwords)
    if choice.chosen is None or choice.chosen.line is None:
        return None
    return next((ln.at for ln in r.lines if ln.number == choice.chosen.line), None)


def author_groups(read: list[tuple[Page, Any]]) -> list[tuple[Page, list[Any], list[bool]]]:
    from briefing.sources.extract import byline, masthead

    out = []
    for page, r in read:
        if r.ctx is None:
            continue
        title_at = _title_at(r)
        lowered = "\n".join(ln.text.lower() for ln in r.lines)
        title = r.lines[title_at].text if title_at is not None else None
        site = masthead.publisher(r.lines, title_at, title, lowered).text
        cands = byline.author_candidates(r.lines, r.lay, r.bylines, site, title_at, r.logits)
        truth = author_set(page.truth["author"])
        out.append((page, cands, [author_set(str(c.value)) == truth for c in cands]))
    return out


def _day(value: Any, source: str) -> str:
    """A candidate's calendar date as the truth gives it: the page's own date, but UTC for
    our own dumps (their expected.json holds what seed ingest stores)."""
    from datetime import UTC, datetime

    if source == "local" and isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return str(value)[:10]


def date_groups(read: list[tuple[Page, Any]]) -> list[tuple[Page, list[Any], list[bool]]]:
    from datetime import date

    from briefing.sources.extract import byline, dateline, masthead, text

    out = []
    for page, r in read:
        if r.ctx is None:
            continue
        title_at = _title_at(r)
        lowered = "\n".join(ln.text.lower() for ln in r.lines)
        title = r.lines[title_at].text if title_at is not None else None
        site = masthead.publisher(r.lines, title_at, title, lowered).text
        who = byline.author(r.lines, r.lay, r.bylines, site, title_at, r.logits)
        at_of = {ln.number: ln.at for ln in r.lines}
        cands = dateline.date_candidates(
            r.lines,
            r.lay,
            title_at,
            text._line_of(who, at_of),
            today=date(2026, 12, 31),
            lang=r.lang,
            year=text._copyright_year(r.lines),
            logits=r.logits,
        )
        truth = page.truth.get("published")
        out.append((page, cands, [_day(c.value, page.source) == truth for c in cands]))
    return out


def publisher_groups(read: list[tuple[Page, Any]]) -> list[tuple[Page, list[Any], list[bool]]]:
    from briefing.sources.extract import masthead

    out = []
    for page, r in read:
        if r.ctx is None:
            continue
        title_at = _title_at(r)
        lowered = "\n".join(ln.text.lower() for ln in r.lines)
        title = r.lines[title_at].text if title_at is not None else None
        cands = masthead.candidates(r.lines, title_at, title, lowered, None, r.logits)
        truth = norm(page.truth.get("publisher"))
        out.append((page, cands, [norm(str(c.value)) == truth for c in cands]))
    return out


def train_ranked(
    groups: list[tuple[Page, list[Any], list[bool]]],
    c: float,
    *,
    abstain: bool,
    truth_key: str = "",
    sources: frozenset[str] = frozenset({"corpus", "local", "outside", "auto"}),
) -> learned.Linear:
    """Fit on the training pages. A page whose true value is among no candidate teaches
    nothing (for abstaining models: unless the truth is empty, then "none" is right)."""
    chosen = [
        (page, cands, labels)
        for page, cands, labels in groups
        if page.split == "train"
        and page.source in sources
        and (any(labels) or (abstain and not page.truth.get(truth_key)))
    ]
    train = [
        ([dict(x.features) for x in cands if not x.refused],
         [lab for x, lab in zip(cands, labels, strict=True) if not x.refused])
        for _, cands, labels in chosen
    ]  # fmt: skip
    weights = [LOCAL_WEIGHT if page.source == "local" else 1.0 for page, _, _ in chosen]
    return fit_ranker(train, c, abstain=abstain, group_weights=weights)


def evaluate_ranked(
    label: str,
    groups: list[tuple[Page, list[Any], list[bool]]],
    m: learned.Linear,
    *,
    abstain: bool = False,
    truth_key: str = "",
) -> None:
    """Accuracy of the choice (with ``abstain``: "none" is right when the truth is empty)."""
    values: dict[tuple[str, str], list[float]] = {}
    reach: dict[tuple[str, str], list[float]] = {}
    wrong: dict[tuple[str, str], list[float]] = {}
    for page, cands, labels in groups:
        empty = abstain and not page.truth.get(truth_key)
        right, p = decide(cands, labels, m, abstain)
        ok = float(empty) if p < m.threshold else float(right)
        values.setdefault((page.source, page.split), []).append(ok)
        wrong.setdefault((page.source, page.split), []).append(
            float(p >= m.threshold and not right)
        )
        reach.setdefault((page.source, page.split), []).append(float(any(labels) or empty))
    report(label, values)
    report("  reachable", reach)
    if abstain:
        report("  wrong value", wrong)


def evaluate_dates(groups: list[tuple[Page, list[Any], list[bool]]], m: learned.Linear) -> None:
    """As the benchmark counts: right over the pages whose dump shows the date; invented
    (a date where the truth has none or another) over every page."""
    right: dict[tuple[str, str], list[float]] = {}
    invented: dict[tuple[str, str], list[float]] = {}
    for page, cands, labels in groups:
        ok, p = decide(cands, labels, m, True)
        kept = p >= m.threshold
        key = (page.source, page.split)
        if page.truth.get("published") and str(page.truth.get("date_visible")) == "True":
            right.setdefault(key, []).append(float(kept and ok))
        invented.setdefault(key, []).append(float(kept and not ok))
    report("date", right)
    report("  invented", {k: [sum(v)] for k, v in invented.items()})


def decide(
    cands: list[Any], labels: list[bool], m: learned.Linear, abstain: bool
) -> tuple[bool, float]:
    """Is the best candidate right, and its (pooled) probability; (False, 0) for none."""
    import math

    live = [(x, lab) for x, lab in zip(cands, labels, strict=True) if not x.refused]
    if not live:
        return False, 0.0
    scores = [m.logit(x.features) for x, _ in live]
    best = max(range(len(live)), key=lambda i: scores[i])
    top = max(max(scores), 0.0) if abstain else max(scores)
    z = sum(math.exp(s - top) for s in scores) + (math.exp(-top) if abstain else 0.0)
    key = norm(str(live[best][0].value))
    p = sum(math.exp(scores[i] - top) for i, (x, _) in enumerate(live) if norm(str(x.value)) == key)
    return live[best][1], (p / z if abstain else 1.0)


def tune_threshold(
    groups: list[tuple[Page, list[Any], list[bool]]],
    m: learned.Linear,
    truth_key: str,
    *,
    penalty: float = 0.5,
    sources: frozenset[str] = frozenset({"corpus", "local", "outside", "auto"}),
) -> learned.Linear:
    """The threshold that makes the most right choices on the training pages, less
    ``penalty`` for each wrong value kept (a wrong byline or date passed as fact is worse
    than none; an invented date is much worse)."""
    decided = [
        (decide(cands, labels, m, True), not page.truth.get(truth_key))
        for page, cands, labels in groups
        if page.split == "train" and page.source in sources
    ]
    best = (float("-inf"), 0.5)
    for t in [x / 20 for x in range(2, 20)]:
        gain = 0.0
        for (right, p), empty in decided:
            if p >= t:
                gain += 1.0 if right else -penalty
            else:
                gain += 1.0 if empty else 0.0
        if gain > best[0] + 1e-9:
            best = (gain, t)
    return learned.Linear(m.bias, m.weights, m.means, threshold=best[1])


def train_body(reads: list[Read], c: float) -> learned.Linear:
    from briefing.sources.extract import blocks, linefeat

    rows: list[dict[str, float]] = []
    labels: list[bool] = []
    weights: list[float] = []
    for r in reads:
        if r.page.split != "train" or not r.page.truth.get("body"):
            continue
        feats = linefeat.line_features(r.lines, blocks.layout(r.lines))
        labs = body_labels([ln.text for ln in r.lines], r.page.truth["body"])
        rows.extend(feats)
        labels.extend(lab >= 0.5 for lab in labs)
        weights.extend(max(1, ln.words) ** 0.5 for ln in r.lines)
    return fit_linear(rows, labels, weights, c)


def report(title: str, values: dict[tuple[str, str], list[float]]) -> None:
    parts = [
        f"{src}/{split} {sum(v) / len(v):.3f} (n={len(v)})"
        for (src, split), v in sorted(values.items())
    ]
    print(f"{title:10} " + "  ".join(parts))


def evaluate_body(reads: list[Read]) -> None:
    from briefing.sources.extract import blocks, linefeat

    values: dict[tuple[str, str], list[float]] = {}
    for r in reads:
        if not r.page.truth.get("body"):
            continue
        logits = linefeat.body_logits(r.lines)
        lay = blocks.layout(r.lines, logits)
        text = "" if lay is None else "\n".join(ln.text for ln in r.lines[lay.start : lay.end + 1])
        values.setdefault((r.page.source, r.page.split), []).append(
            bow_f1(text, r.page.truth["body"])
        )
    report("body run", values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--outside", type=Path, default=DEFAULT_OUTSIDE)
    ap.add_argument("--dry-run", action="store_true", help="report, do not write weights.json")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    ap.add_argument("--out", type=Path, help="write the weights there instead")
    args = ap.parse_args()
    pages = load_corpus(args.corpus, "corpus")
    if not pages:
        print(f"error: no corpus at {args.corpus}", file=sys.stderr)
        return 1
    pages += load_corpus(args.outside, "outside") + load_corpus(args.outside / "auto", "auto")
    pages += load_local()
    counts = Counter((p.source, p.split) for p in pages)
    print("pages:", ", ".join(f"{s}/{t} {n}" for (s, t), n in sorted(counts.items())))
    reads = read_pages(pages)
    models: dict[str, learned.Linear] = {}
    models["body"] = train_body(reads, args.c)
    learned.set_model("body", models["body"])
    evaluate_body(reads)
    read = readings(reads)
    groups = title_groups(read)
    models["title"] = train_ranked(groups, args.c, abstain=False)
    learned.set_model("title", models["title"])
    evaluate_ranked("title", groups, models["title"])
    groups = publisher_groups(read)
    m = train_ranked(groups, args.c, abstain=True, truth_key="publisher")
    models["publisher"] = tune_threshold(groups, m, "publisher", sources=CHECKED)
    print(f"publisher threshold {models['publisher'].threshold}")
    learned.set_model("publisher", models["publisher"])
    evaluate_ranked("publisher", groups, models["publisher"], abstain=True, truth_key="publisher")
    groups = author_groups(read)
    m = train_ranked(groups, args.c, abstain=True, truth_key="author", sources=CHECKED)
    models["author"] = tune_threshold(groups, m, "author", sources=CHECKED)
    print(f"author threshold {models['author'].threshold}")
    learned.set_model("author", models["author"])
    evaluate_ranked("author", groups, models["author"], abstain=True, truth_key="author")
    groups = date_groups(read)
    # a date where the truth has none, or another, is invented: it costs two right ones
    m = train_ranked(groups, args.c, abstain=True, truth_key="")
    models["date"] = tune_threshold(groups, m, "", penalty=2.0, sources=CHECKED)
    print(f"date threshold {models['date'].threshold}")
    learned.set_model("date", models["date"])
    evaluate_dates(groups, models["date"])
    if not args.dry_run:
        out = {
            "about": "Weights of the text-dump extractor, written by scripts/train_extract.py",
            "trained_on": {f"{s}/{t}": n for (s, t), n in sorted(counts.items()) if t == "train"},
            "models": {name: m.to_json() for name, m in models.items()},
        }
        target = args.out or WEIGHTS
        target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {target} ({target.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
