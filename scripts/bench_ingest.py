#!/usr/bin/env python3
"""Benchmark: ingesting feed items against feedparser.parse alone on the same bytes.

Builds a synthetic set of feed items (RSS 2.0 and Atom, with HTML content, tracking
parameters and a few duplicate stories), ingests them with `briefing.services.ingest.ingest`
into a fresh SQLite database (fetch from local files, parse, sanitize, normalize,
de-duplicate, store), and in the same run times `feedparser.parse` on the same bytes.

Last line of output, one JSON object:
    {"items": N, "ingest_items_per_s": X, "feedparser_items_per_s": Y, "ratio": X/Y}
Target: ratio >= 0.7 (normalizing, de-duplicating and storing add at most 30%).

Usage: .venv/bin/python scripts/bench_ingest.py [--items 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

from briefing.config import load_settings
from briefing.services.ingest import ingest
from briefing.store.db import open_engine

PER_FEED = 200
WORDS = [
    "defense",
    "budget",
    "ministry",
    "missile",
    "launch",
    "alliance",
    "pacific",
    "security",
    "treaty",
    "minister",
    "regional",
    "cooperation",
    "exercise",
    "coast",
    "guard",
    "fleet",
    "satellite",
    "parliament",
    "export",
    "technology",
    "partnership",
]


def paragraph(seed: int, n: int = 45) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)).capitalize() + "."


def rss(feed_no: int, count: int, start: int) -> str:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    items = []
    for i in range(start, start + count):
        story = i if i % 50 else i - 1  # every 50th item repeats the story before it
        content = (
            "".join(
                f'<p>{escape(paragraph(story + k))} <a href="https://news{feed_no}.example.org/r/{i}?utm_source=rss">link</a></p>'
                for k in range(4)
            )
            + "<script>alert(1)</script><!-- tracking -->"
        )
        when = (base + timedelta(minutes=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(
            f"<item><title>Story {story}: &lt;b&gt;Alliance&lt;/b&gt; update</title>"
            f"<link>https://news{feed_no}.example.org/story/{i}?utm_medium=feed&amp;id={i}</link>"
            f'<guid isPermaLink="false">feed{feed_no}-item-{i}</guid><pubDate>{when}</pubDate>'
            f"<author>desk{feed_no}@example.org (Desk {feed_no})</author>"
            f"<category>Security</category><category>Asia</category>"
            f"<description>{escape(paragraph(story))}</description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Bench Wire {feed_no}</title><link>https://news{feed_no}.example.org/</link>"
        f"<description>synthetic</description>{''.join(items)}</channel></rss>"
    )


def atom(feed_no: int, count: int, start: int) -> str:
    entries = []
    for i in range(start, start + count):
        content = "".join(f"&lt;p&gt;{escape(paragraph(i + k))}&lt;/p&gt;" for k in range(4))
        when = (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat()
        entries.append(
            f'<entry><title type="html">Atom story {i}</title><id>urn:bench:{feed_no}:{i}</id>'
            f'<link href="https://atom{feed_no}.example.org/a/{i}?fbclid=x"/><updated>{when}</updated>'
            f"<author><name>Atom Desk</name></author><summary>{escape(paragraph(i))}</summary>"
            f'<content type="html">{content}</content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Bench Atom {feed_no}</title><id>urn:bench:{feed_no}</id>"
        f"<updated>2026-11-01T00:00:00Z</updated>{''.join(entries)}</feed>"
    )


def make_feeds(folder: Path, items: int) -> list[Path]:
    paths = []
    start = 0
    feed_no = 0
    while start < items:
        count = min(PER_FEED, items - start)
        text = atom(feed_no, count, start) if feed_no % 2 else rss(feed_no, count, start)
        path = folder / f"feed{feed_no}.xml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        start += count
        feed_no += 1
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        feeds = make_feeds(folder, args.items)
        blobs = [p.read_bytes() for p in feeds]
        ingest_times, parse_times, same_times = [], [], []
        stored = 0
        for run in range(args.repeat):
            t = time.perf_counter()
            total = 0
            for blob in blobs:
                total += len(feedparser.parse(blob).entries)
            parse_times.append(time.perf_counter() - t)
            assert total == args.items, f"feedparser saw {total} items"

            # the same call Briefing makes (its own sanitizer off: nh3 does that job)
            t = time.perf_counter()
            for blob in blobs:
                atom = b"http://www.w3.org/2005/Atom" in blob[:4096]
                feedparser.parse(blob, sanitize_html=False, resolve_relative_uris=atom)
            same_times.append(time.perf_counter() - t)

            settings = load_settings(
                None, env={}, overrides={"storage": {"url": f"sqlite:///{folder}/run{run}.db"}}
            )
            engine = open_engine(settings.database_url)  # migrations are set-up, not timed
            t = time.perf_counter()
            reports = ingest(settings, engine, feeds=[str(p) for p in feeds], only_given=True)
            ingest_times.append(time.perf_counter() - t)
            failed = [r for r in reports if r.failed]
            if failed:
                print(f"error: {failed[0].source}: {failed[0].error}", file=sys.stderr)
                return 1
            stored = sum(r.new + r.duplicates for r in reports)
            engine.dispose()
        # best of N: the least disturbed run of each, measured alternately
        ingest_s, parse_s, same_s = min(ingest_times), min(parse_times), min(same_times)
    ingest_rate = args.items / ingest_s
    parse_rate = args.items / parse_s
    same_rate = args.items / same_s
    print(f"feeds: {len(feeds)}, items: {args.items}, stored: {stored}, best of {args.repeat} runs")
    print(
        f"feedparser.parse, defaults:           {parse_s * 1000:6.0f} ms  ({parse_rate:,.0f} items/s)"
    )
    print(
        f"feedparser.parse, Briefing's options: {same_s * 1000:6.0f} ms  ({same_rate:,.0f} items/s;"
        " its sanitizer off, nh3 does that)"
    )
    print(
        f"briefing ingest (parse, sanitize, normalize, de-duplicate, store): {ingest_s * 1000:.0f} ms"
        f"  ({ingest_rate:,.0f} items/s)"
    )
    print(
        f"ratio vs defaults {ingest_rate / parse_rate:.2f} (target >= 0.70); "
        f"vs the same parse options {ingest_rate / same_rate:.2f}"
    )
    print(
        json.dumps(
            {
                "items": args.items,
                "ingest_items_per_s": round(ingest_rate, 1),
                "feedparser_items_per_s": round(parse_rate, 1),
                "ratio": round(ingest_rate / parse_rate, 3),
                "feedparser_same_options_items_per_s": round(same_rate, 1),
                "ratio_same_options": round(ingest_rate / same_rate, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
