"""Turn the gathered pages and their dumps into the data set: pages/, html/ and expected.json.

Usage: python build.py WORKDIR OUTDIR CORPUS_DIR
  WORKDIR:    scratch folder with postlight.json, trafilatura.json (gather_*.py) and dumps/ (render.py)
  OUTDIR:     the data set folder (e.g. /work/extract-data); pages/, html/ and expected.json are
              replaced (pages checked by eye), and so is OUTDIR/auto/ (same layout: pages that
              passed every automatic check but were not read by eye); WORKDIR/build_report.json
              lists every page left out and why
  CORPUS_DIR: the development corpus (../shared/extract-corpus); no page of it may be in the data set

Each source's raw truth is normalized (bylines to "A, B and C", staff and agency bylines to null,
dates to the page's local calendar date), then checked against the page's own HTML and its text
dump. A page is kept only when every check passes or curated.py settles it by hand:
  - the title appears in the dump; each author name appears in the dump;
  - the date agrees with the page's metadata (postlight) or with htmldate's annotation (trafilatura);
  - the dump has at least MIN_CHARS characters, and curated.py does not drop the page;
  - the page is not in the development corpus (same URL, or same title).
`date_visible` is computed: the dump shows the published date with day, month and year.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shutil
import sys
from collections import Counter
from typing import Any

import py3langid
from common import (
    clean,
    date_shown,
    date_visible,
    html_meta,
    join_names,
    meta_first,
    names,
    norm,
    parse_iso,
    split_byline,
)
from curated import CHECKED, DROP, FIX

MIN_CHARS = 800

# bylines that name no person (the corpus's rule: agency, staff and site-name bylines are null)
NOT_A_PERSON = re.compile(
    r"\b(staff|desk|team|editors?|editorial|redaktion|newsroom|submissions?|admin|administrator|"
    r"webmaster|super user|press office|pressestelle|news service|news|wire|agenc(y|ia|e)|"
    r"associated press|reuters|afp|dpa|apa|sda|kna|epd|ansa|efe|ap)\b",
    re.I,
)


def local_dates_from_meta(hm: dict[str, Any]) -> list[tuple[str, Any]]:
    """(source, datetime|date) published-date candidates from meta tags, JSON-LD and <time>."""
    out: list[tuple[str, Any]] = []
    for k in (
        "article:published_time",
        "og:article:published_time",
        "datepublished",
        "published_time",
        "publishdate",
        "publish-date",
        "pubdate",
        "sailthru.date",
        "parsely-pub-date",
        "dc.date",
        "dc.date.issued",
        "dcterms.created",
        "date",
        "article.published",
        "cxenseparse:recs:publishtime",
    ):
        for v in hm.get("meta", {}).get(k, []):
            d = parse_iso(v)
            if d:
                out.append((k, d))
    for it in hm.get("ld", []):
        d = parse_iso(it.get("datePublished"))
        if d:
            out.append(("ld:datePublished", d))
    for t in hm.get("time", []):
        d = parse_iso(t[0])
        if d:
            out.append(("time", d))
    return out


def as_date(d: Any) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


def lang_of(hm: dict[str, Any], dump: str) -> tuple[str, str | None]:
    """(lang, flag): the page's lang attribute, checked against a language guess on the dump."""
    guess = py3langid.classify(dump[:20000])[0]
    attr = (hm.get("lang") or "").split("-")[0].split("_")[0].lower() or None
    if attr and attr == guess:
        return attr, None
    if not attr:
        return guess, None
    return attr, f"lang attribute {attr!r} but the dump reads as {guess!r}"


def clean_person(n: str) -> str:
    n = re.sub(r"\S+@\S+", "", n)
    n = re.sub(r"\s*\|.*$", "", n)
    n = clean(n).strip(" -–—·|,;:[]《》【】（）()")
    # "JOSH HASKELL" -> "Josh Haskell"; leave initials ("KT") and non-Latin names alone
    if n.isupper() and re.fullmatch(r"[A-Z .'-]+", n) and re.search(r"[A-Z]{3}", n):
        n = n.title()  # "R.C. BAKER" -> "R.C. Baker", "O'MAHONY" -> "O'Mahony"
        n = re.sub(r"\bMc([a-z])", lambda m: "Mc" + m.group(1).upper(), n)
    return n


def norm_author(raw: Any, publisher: str | None) -> tuple[str | None, list[str]]:
    """Raw byline -> ("A, B and C" | None, notes)."""
    if not raw:
        return None, []
    parts = (
        [p for r in raw for p in split_byline(r)] if isinstance(raw, list) else split_byline(raw)
    )
    notes, keep = [], []
    for p in parts:
        p = clean_person(p)
        if not p:
            continue
        if re.fullmatch(r"(?:PhD|Ph\.D\.|MD|M\.D\.|MPH|MBA|RN)", p, re.I):
            continue  # a degree after a name, split off by the comma
        if (
            NOT_A_PERSON.search(p)
            or (publisher and norm(p) == norm(publisher))
            or re.match(r"https?://", p)
        ):
            notes.append(f"byline {p!r} names no person (left out)")
            continue
        keep.append(p)
    return join_names(keep), notes


def names_in_dump(author: str | None, dump: str) -> list[str]:
    nd = norm(dump)
    return [n for n in names(author) if norm(n) not in nd]


def corpus_keys(corpus: str) -> tuple[set[str], set[str]]:
    with open(os.path.join(corpus, "expected.json"), encoding="utf-8") as f:
        exp = json.load(f)
    titles = {norm(v["title"]) for v in exp.values()}
    urls: set[str] = set()
    for fn in os.listdir(os.path.join(corpus, "html")):
        with gzip.open(os.path.join(corpus, "html", fn)) as g:
            hm = html_meta(g.read())
        for u in [hm.get("canonical"), meta_first(hm, "og:url")]:
            if u:
                urls.add(url_key(u))
    return titles, urls


def url_key(u: str) -> str:
    u = re.sub(r"^https?://(www\.)?", "", u.strip().lower())
    return re.sub(r"[?#].*$", "", u).rstrip("/")


# ---------------------------------------------------------------------------------------------
# per source


def postlight_record(it: dict[str, Any], dump: str) -> tuple[dict[str, Any], list[str], list[str]]:
    t, hm = it["truth"], it["hm"]
    flags: list[str] = []
    notes: list[str] = []
    publisher = meta_first(hm, "og:site_name")
    if not publisher:
        notes.append("publisher: the page has no og:site_name (null)")
    title = clean(t.get("title")) or None
    if not title:
        flags.append("the tests assert no title")
    author, an = norm_author(t.get("author"), publisher)
    notes += an
    if "author" not in t:
        flags.append("the tests assert no author")
    published, _visible, dn, df = postlight_date(t, hm, dump)
    notes += dn
    flags += df
    rec = {
        "title": title,
        "author": author,
        "publisher": publisher,
        "published": published,
        "body_start": t.get("body_start"),
        "body_with": None,
        "body_without": None,
        "url": it.get("url") or hm.get("canonical"),
    }
    return rec, flags, notes


def postlight_date(
    t: dict[str, Any], hm: dict[str, Any], dump: str
) -> tuple[str | None, bool, list[str], list[str]]:
    """The page's local publication date from the tests' UTC instant, the meta tags and the dump."""
    notes: list[str] = []
    flags: list[str] = []
    raw = t.get("date_published") or t.get("date_only")
    if not raw:
        if any(True for _ in local_dates_from_meta(hm)):
            flags.append("the tests assert no date but the page's metadata has one")
        return None, False, notes, flags
    inst = parse_iso(raw)
    if inst is None:
        flags.append(f"unreadable date {raw!r}")
        return None, False, notes, flags
    utc_day = as_date(inst)
    metas = local_dates_from_meta(hm)
    # a meta tag with a UTC offset that gives the same instant names the page's local day
    same = [
        (k, d)
        for k, d in metas
        if isinstance(d, dt.datetime)
        and isinstance(inst, dt.datetime)
        and d.utcoffset()  # an offset of zero says nothing about the page's local day
        and abs((d - inst).total_seconds()) < 120
    ]
    near = [utc_day + dt.timedelta(days=k) for k in (0, -1, 1)]
    shown = {d: date_shown(dump, d) for d in near}
    shown_days = [d for d in near if shown[d]]
    if same:
        local = as_date(same[0][1])
        src = f"{same[0][0]} {same[0][1].isoformat()}"
    elif isinstance(inst, dt.datetime):
        local = None
        src = ""
    else:
        local, src = utc_day, ""
    if local is not None:
        day = local
        if local != utc_day:
            notes.append(f"date: the tests give {raw} (UTC); the page's local date from {src}")
        if not shown[day] and shown_days:
            flags.append(f"date {day} not in the dump, but {shown_days[0]} is")
    elif len(shown_days) == 1:
        day = shown_days[0]
        if day != utc_day:
            notes.append(f"date: the tests give {raw} (UTC); the dump shows {shown[day]!r}")
    elif shown_days:
        day = utc_day if shown[utc_day] else shown_days[0]
        flags.append(f"dates {shown_days} all in the dump near the tests' {raw}")
    else:
        day = utc_day
        assert isinstance(inst, dt.datetime)
        naive_local = [as_date(d) for _, d in metas if isinstance(d, dt.datetime) and not d.tzinfo]
        if naive_local and naive_local[0] != utc_day:
            flags.append(f"tests give {raw}, a meta tag without offset says {naive_local[0]}")
        elif 4 <= inst.hour < 23 or naive_local:
            pass  # the same calendar day in every timezone from UTC-4 to UTC+1
        else:
            flags.append(f"tests give {raw} (UTC) near midnight; page's local day unknown")
    return day.isoformat(), bool(shown.get(day)), notes, flags


def trafilatura_record(
    it: dict[str, Any], dump: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    t, hm = it["truth"], it["hm"]
    flags: list[str] = []
    notes: list[str] = []
    title = clean(t.get("title")) or None
    publisher = t.get("sitename") or meta_first(hm, "og:site_name")
    if not t.get("sitename"):
        if publisher and (
            re.match(r"https?://", publisher)
            or len(publisher) > 50
            or (title and norm(title) in norm(publisher))
        ):
            notes.append(f"publisher: og:site_name {publisher!r} is not a site name (null)")
            publisher = None
        else:
            notes.append(
                "publisher: og:site_name" if publisher else "publisher: no og:site_name (null)"
            )
    author, an = norm_author(t.get("author"), publisher)
    notes += an
    if not t.get("author"):
        # an empty annotation is not always "no byline": look for a visible personal name
        cands = [a for it2 in hm.get("ld", []) for a in it2.get("author", [])]
        cands += hm.get("meta", {}).get("author", [])
        vis = [
            c
            for c in cands
            if c and not NOT_A_PERSON.search(c) and len(c) < 60 and norm(c) in norm(dump)
        ]
        if vis:
            flags.append(
                f"no author annotated, but the page names {vis[0]!r} and the dump shows it"
            )
        cue = byline_cue(dump, title)
        if cue:
            flags.append(f"no author annotated, but the dump has a byline-like line {cue!r}")
    ogt = (meta_first(hm, "og:type") or "").lower()
    if not (
        t.get("author")
        or ogt == "article"
        or any(re.search(r"Article|Posting|Report", x.get("type") or "") for x in hm.get("ld", []))
    ):
        flags.append("no article signal (no author, og:type is not article, no JSON-LD Article)")
    published = t.get("date") or None
    try:
        dt.date.fromisoformat(published or "2000-01-01")
    except ValueError:
        flags.append(f"unreadable date {published!r}")
        published = None
    hd = t.get("htmldate_date")
    if published and hd and hd != published:
        flags.append(f"date {published} but htmldate's annotation says {hd}")
    if not published:
        flags.append("no date annotated (most such pages of this source are not articles)")
    if published:
        d = dt.date.fromisoformat(published)
        if not date_shown(dump, d):
            near = [d + dt.timedelta(days=k) for k in (-1, 1)]
            if any(date_shown(dump, x) for x in near):
                flags.append(f"date {published} not in the dump, but a day next to it is")
    rec = {
        "title": title,
        "author": author,
        "publisher": publisher,
        "published": published,
        "body_start": None,
        "body_with": t.get("with"),
        "body_without": t.get("without"),
        "url": it.get("url") or hm.get("canonical"),
    }
    return rec, flags, notes


BYLINE = re.compile(
    r"^(?:von|by|autor(?:in)?|text|written by|posted by|geschrieben von|verfasst von|par|por|"
    r"escrito por|di|door|av)\b[:\s]+[A-ZÄÖÜÉ]"
    r"|\b(?:von|by|par|por)\s+[A-ZÄÖÜÉ][a-zäöüßéèáíóú]+ [A-ZÄÖÜÉ][a-zäöüßéèáíóú]+",
)


def byline_cue(dump: str, title: str | None) -> str | None:
    """A line near the (first) title line that looks like a personal byline, or None."""
    lines = dump.splitlines()
    nt = norm(title)
    at = next((i for i, ln in enumerate(lines) if nt and nt in norm(ln)), None)
    if at is None:
        return None
    for ln in lines[max(at - 6, 0) : at + 12]:
        ln = ln.strip()
        if 0 < len(ln) < 120 and BYLINE.search(ln):
            return ln
    return None


RECORD = {"postlight": postlight_record, "trafilatura": trafilatura_record}


def main(work: str, out: str, corpus: str) -> None:
    c_titles, c_urls = corpus_keys(corpus)
    items = []
    for src in RECORD:
        fn = os.path.join(work, src + ".json")
        if os.path.exists(fn):
            with open(fn, encoding="utf-8") as f:
                items += [(src, it) for it in json.load(f)]
    unknown = (set(FIX) | set(DROP) | set(CHECKED)) - {it["key"] for _, it in items}
    assert not unknown, f"curated.py names unknown pages: {sorted(unknown)}"
    kept, left_out = [], {}
    cands: dict[str, Any] = {}  # every page's record before the checks, for review.py
    for src, it in items:
        key = it["key"]
        dfile = os.path.join(work, "dumps", key + ".txt")
        if not os.path.exists(dfile):
            left_out[key] = "not rendered (run render.py)"
            continue
        with open(dfile, encoding="utf-8") as f:
            dump = f.read()
        if key in DROP:
            left_out[key] = "curated: " + DROP[key]
            continue
        if len(dump.strip()) < MIN_CHARS:
            left_out[key] = f"dump shorter than {MIN_CHARS} characters"
            continue
        rec, flags, notes = RECORD[src](it, dump)
        lang, lf = lang_of(it["hm"], dump)
        if lf:
            flags.append(lf)
        rec["lang"] = lang
        fix = dict(FIX.get(key, {}))
        hand_note = fix.pop("notes", None)
        for k in fix:
            assert k in rec or k == "date_visible", (key, k)
        rec.update(fix)
        if fix or key in CHECKED:
            flags = []  # settled by hand (curated.py)
        # checks that hold after any correction
        if not rec["title"]:
            flags.append("no title")
        elif norm(rec["title"]) not in norm(dump):
            flags.append("title not in the dump")
        miss = names_in_dump(rec["author"], dump)
        if miss:
            flags.append(f"author name(s) {miss} not in the dump")
        if rec["published"] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", rec["published"]):
            flags.append("published is not YYYY-MM-DD")
        if norm(rec["title"]) in c_titles:
            left_out[key] = "same title as a development-corpus page"
            continue
        u = rec["url"]
        if u and url_key(u) in c_urls:
            left_out[key] = "same URL as a development-corpus page"
            continue
        d = dt.date.fromisoformat(rec["published"]) if rec["published"] else None
        if "date_visible" not in fix:
            rec["date_visible"], why = date_visible(dump, d) if d else (False, None)
            if why:
                notes.append(f"date_visible false: {why}")
        rec["notes"] = "; ".join([*notes, *([hand_note] if hand_note else [])]) or None
        rec["review"] = "eye" if (fix or key in CHECKED) else "auto"
        cands[key] = {"rec": rec, "flags": flags, "url": it.get("url"), "hm": it["hm"]}
        if flags:
            left_out[key] = "unsettled: " + "; ".join(flags)
            continue
        kept.append((src, it, rec, dump))
    # the main set holds only pages checked by eye; pages that passed every automatic check but
    # were not read by eye go to OUTDIR/auto/ in the same layout (noisier: for training, not scoring)
    write(out, [k for k in kept if k[2]["review"] == "eye"])
    write(os.path.join(out, "auto"), [k for k in kept if k[2]["review"] == "auto"])
    with open(os.path.join(work, "candidates.json"), "w", encoding="utf-8") as f:
        json.dump(cands, f, ensure_ascii=False, indent=1)
    n_eye = sum(k[2]["review"] == "eye" for k in kept)
    report = {"kept": n_eye, "auto": len(kept) - n_eye, "left_out": dict(sorted(left_out.items()))}
    with open(os.path.join(work, "build_report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    why = Counter(v.split(":")[0] for v in left_out.values())
    print(f"kept {n_eye} checked by eye, {len(kept) - n_eye} in auto/, left out {len(left_out)}")
    print("left out:", dict(why))


def write(out: str, kept: list[tuple[str, dict[str, Any], dict[str, Any], str]]) -> None:
    for sub in ("pages", "html"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    expected = {}
    for n, (_src, it, rec, dump) in enumerate(sorted(kept, key=lambda k: k[1]["key"])):
        stem = f"{n:03d}_{it['key']}"
        with open(os.path.join(out, "pages", stem + ".txt"), "w", encoding="utf-8") as f:
            f.write(dump if dump.endswith("\n") else dump + "\n")
        with open(it["html_file"], "rb") as f:
            raw = f.read()
        with (
            open(os.path.join(out, "html", stem + ".html.gz"), "wb") as f,
            gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as g,
        ):
            g.write(raw)
        expected[stem + ".txt"] = {
            "title": rec["title"],
            "author": rec["author"],
            "publisher": rec["publisher"],
            "published": rec["published"],
            "lang": rec["lang"],
            "body": None,
            "body_start": rec["body_start"],
            "body_with": rec["body_with"],
            "body_without": rec["body_without"],
            "date_visible": rec["date_visible"],
            "source_repo": it["source_repo"],
            "source_path": it["source_path"],
            "url": rec["url"],
            "review": rec["review"],
            "notes": rec["notes"],
        }
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
