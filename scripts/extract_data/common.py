"""Shared helpers for the outside extraction data set (see README.md in this folder).

Reading saved HTML pages (encoding, meta tags, JSON-LD), normalizing titles and bylines the way
the development corpus does, and finding whether a text dump shows a given calendar date.
Imported by the gather_*.py and build.py scripts next to it; standard library and lxml only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Any

import lxml.html

# ---------------------------------------------------------------------------------------------
# HTML


def decode_html(raw: bytes) -> tuple[str, str]:
    """Bytes -> (text, encoding). UTF-8 when the bytes are valid UTF-8, else the declared charset."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    head = raw[:4096].decode("ascii", "replace")
    m = re.search(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", head, re.I)
    enc = m.group(1).lower() if m else "windows-1252"
    if enc in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        enc = "windows-1252"  # what browsers do for these labels
    try:
        return raw.decode(enc, "replace"), enc
    except LookupError:
        return raw.decode("windows-1252", "replace"), "windows-1252"


def clean(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def parse_html(text: str) -> Any:
    # lxml refuses a str that still carries an XML encoding declaration
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    return lxml.html.fromstring(text or "<html></html>")


def _ld_items(doc: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in doc.iter("script"):
        if (s.get("type") or "").lower().strip() != "application/ld+json":
            continue
        try:
            j = json.loads(s.text or "")
        except ValueError:
            continue
        stack = j if isinstance(j, list) else [j]
        while stack:
            it = stack.pop(0)
            if isinstance(it, list):
                stack.extend(it)
            elif isinstance(it, dict):
                if "@graph" in it:
                    stack.extend(it["@graph"] if isinstance(it["@graph"], list) else [it["@graph"]])
                out.append(it)
    return out


def _ld_name(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return _ld_name(v.get("name"))
    if isinstance(v, list):
        return [n for x in v for n in _ld_name(x)]
    return []


def html_meta(raw: bytes) -> dict[str, Any]:
    """Metadata hints from a saved page: used to cross-check the truth, never taken blindly."""
    text, enc = decode_html(raw)
    try:
        doc = parse_html(text)
    except (ValueError, lxml.etree.ParserError) as e:
        return {"error": str(e), "encoding": enc}
    metas: dict[str, list[str]] = {}
    for m in doc.iter("meta"):
        k = m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv")
        # postlight's fixtures were saved by Mercury, which renamed most `content` to `value`
        v = m.get("content") or m.get("value")
        if k and v and v.strip():
            metas.setdefault(k.lower().strip(), []).append(clean(v))
    t = doc.find(".//title")
    canon = [
        ln.get("href") for ln in doc.iter("link") if "canonical" in (ln.get("rel") or "").lower()
    ]
    ld = []
    for it in _ld_items(doc):
        typ = it.get("@type")
        ld.append(
            {
                "type": typ if isinstance(typ, str) else ",".join(map(str, typ or [])),
                "headline": clean(it.get("headline"))
                if isinstance(it.get("headline"), str)
                else None,
                "author": _ld_name(it.get("author")),
                "datePublished": it.get("datePublished")
                if isinstance(it.get("datePublished"), str)
                else None,
                "publisher": (_ld_name(it.get("publisher")) or [None])[0],
            }
        )
    html_el = doc if doc.tag == "html" else doc.getroottree().getroot()
    times = []
    for x in doc.iter("time"):
        if x.get("datetime") or x.get("pubdate") is not None:
            times.append([x.get("datetime"), clean(x.text_content())[:80]])
    return {
        "encoding": enc,
        "lang": (html_el.get("lang") or html_el.get("xml:lang") or "").strip() or None,
        "title_tag": clean(t.text_content()) if t is not None else None,
        "h1": [clean(h.text_content()) for h in doc.iter("h1")][:5],
        "canonical": canon[0] if canon else None,
        "meta": metas,
        "ld": ld,
        "time": times[:8],
    }


def meta_first(hm: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = hm.get("meta", {}).get(k)
        if v:
            return str(v[0])
    return None


# ---------------------------------------------------------------------------------------------
# normalization (as in the development corpus's write.py)


def norm(s: str | None) -> str:
    s = unicodedata.normalize("NFKC", s or "")
    s = (
        s.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    s = s.replace("\u2013", "-").replace("\u2014", "-").replace("\u00ad", "")
    return re.sub(r"\s+", " ", s).strip().lower()


def names(author: str | None) -> list[str]:
    return [n.strip() for n in re.split(r",|\band\b", author) if n.strip()] if author else []


def join_names(ns: list[str]) -> str | None:
    ns = [n for n in ns if n]
    if not ns:
        return None
    if len(ns) == 1:
        return ns[0]
    return ", ".join(ns[:-1]) + " and " + ns[-1]


def split_byline(s: str) -> list[str]:
    """'By A, B & C' / 'A; B' / 'A and B' -> ['A', 'B', 'C']."""
    s = clean(s)
    s = re.sub(r"^(by|von|par|por|di|door|av|af|text|texte|autor|author)[\s:]+", "", s, flags=re.I)
    s = re.sub(r"^(著者|作者|文|筆者|執筆)\s*[：:●]?\s*", "", s)
    parts = re.split(r"\s*(?:;|,|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bi\b|\bja\b)\s*", s)
    return [clean(p) for p in parts if clean(p)]


# ---------------------------------------------------------------------------------------------
# dates

# month names and abbreviations: en, fr, de, es, it, pt, nl, pl, fi, cs, hu, tr, ro (one line a month)
_MONTH_WORDS = """
january jan janvier janv januar jänner jän enero ene gennaio gen janeiro jan januari stycznia styczeń tammikuuta tammikuu leden ledna január januar ocak ianuarie
february feb févr février fevrier februar feber febrero feb febbraio febb fevereiro fev fevr februari lutego luty helmikuuta únor února február şubat subat februarie
march mar mars märz maerz marzo mar março marco maart marca marzec maaliskuuta březen března március mart martie
april apr avril avr abril abr aprile apr april kwietnia kwiecień huhtikuuta duben dubna április nisan aprilie
may mai mayo maggio mag maio mei maja maj toukokuuta květen května május mayıs mayis
june jun juin juni junio giugno giu junho jun juni czerwca czerwiec kesäkuuta červen června június haziran iunie
july jul juillet juil juli julio luglio lug julho jul juli lipca lipiec heinäkuuta červenec července július temmuz iulie
august aug août aout august agosto ago agosto augustus sierpnia sierpień elokuuta srpen srpna augusztus ağustos agustos
september sept sep septembre september septiembre setiembre settembre set setembro set september września wrzesień syyskuuta září szeptember eylül eylul septembrie
october oct octobre oktober okt octubre oct ottobre ott outubro out oktober października październik lokakuuta říjen října október ekim octombrie
november nov novembre november noviembre nov novembre novembro novembre listopada listopad marraskuuta listopadu november kasım kasim noiembrie
december dec décembre decembre déc dezember dez diciembre dic dicembre dezembro dez december grudnia grudzień joulukuuta prosinec prosince december aralık aralik decembrie
"""
MONTHS: dict[int, list[str]] = {
    i: line.split() for i, line in enumerate(_MONTH_WORDS.strip().splitlines(), 1)
}


def parse_iso(s: str | None) -> dt.datetime | dt.date | None:
    """'2016-11-29T20:26:06.000Z' / '2016-11-29 15:26:06-0500' / '2016-11-29' -> datetime or date."""
    if not s:
        return None
    s = s.strip()
    m = re.match(
        r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?",
        s,
    )
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        if m.group(4) is None:
            return dt.date(y, mo, d)
        tz = m.group(7)
        tzinfo = None
        if tz == "Z":
            tzinfo = dt.UTC
        elif tz:
            tz = tz.replace(":", "")
            off = int(tz[1:3]) * 60 + int(tz[3:5])
            tzinfo = dt.timezone(dt.timedelta(minutes=off if tz[0] == "+" else -off))
        return dt.datetime(
            y, mo, d, int(m.group(4)), int(m.group(5)), int(m.group(6) or 0), tzinfo=tzinfo
        )
    except ValueError:
        return None


def _date_patterns(d: dt.date) -> list[str]:
    y, m, day = d.year, d.month, d.day
    yy = f"{y % 100:02d}"
    D = rf"0?{day}"
    M = rf"0?{m}"
    Y = rf"(?:{y}|{yy})"
    pats = [
        rf"{y}\s*[-/.]\s*{m:02d}\s*[-/.]\s*{day:02d}",
        rf"{y}\s*[-/.]\s*{m}\s*[-/.]\s*{day}",
        rf"{y}\s*年\s*0?{m}\s*月\s*0?{day}\s*日",
        rf"{D}\s*[./-]\s*{M}\s*[./-]\s*{Y}",  # 29.11.2016, 29/11/16
        rf"{M}\s*/\s*{D}\s*/\s*{Y}",  # US 11/29/2016
        rf"{m:02d}\.{day:02d}\.{y}",  # US with dots, 01.21.2020 (Wired)
        rf"{M}\s*-\s*{D}\s*-\s*{y}",
    ]
    names_ = "|".join(sorted({re.escape(n) for n in MONTHS[m]}, key=len, reverse=True))
    mon = rf"(?:{names_})\.?"
    ordinal = r"(?:st|nd|rd|th|er|e|º|°)?"
    pats += [
        rf"{D}{ordinal}\.?\s*(?:de\s+|of\s+)?{mon},?\s*(?:del?\s+)?{y}",  # 29 November 2016, 29 de noviembre de 2016
        rf"(?<![^\W\d_]){mon}\s*{D}{ordinal},?\s*{y}",  # November 29, 2016
        rf"{y}\.?\s*{mon}\s*{D}\.?",  # 2016. november 29. (hu)
    ]
    return pats


def date_spans(dump: str, d: dt.date) -> list[tuple[int, int]]:
    """Every (start, end) in the dump that shows the full date d (day, month and year)."""
    low = dump.lower()
    spans = set()
    for p in _date_patterns(d):
        for m in re.finditer(rf"(?<!\d){p}", low):
            # a digit right after the match is another number, except after a four-digit year:
            # dumps glue a year to what follows ("December 15, 20163:33 PM", "3. April 20223. April")
            if (
                m.end() < len(low)
                and low[m.end()].isdigit()
                and not re.search(r"\d{4}$", m.group(0))
            ):
                continue
            spans.add((m.start(), m.end()))
    return sorted(spans)


def date_shown(dump: str, d: dt.date) -> str | None:
    """The first text in the dump that shows the full date d, or None."""
    spans = date_spans(dump, d)
    return dump[spans[0][0] : spans[0][1]] if spans else None


UPDATED = re.compile(
    r"(updated|update:|last modified|modified|aktualisiert|zuletzt geändert|geändert am|更新|"
    r"mis à jour|modifié|actualizado|actualización|atualizado|aggiornato)",
    re.I,
)


def date_visible(dump: str, d: dt.date) -> tuple[bool, str | None]:
    """(shown, why not): True when the dump shows d somewhere not labelled as an update date."""
    spans = date_spans(dump, d)
    if not spans:
        return False, None
    for a, _b in spans:
        line_start = dump.rfind("\n", 0, a) + 1
        before = dump[line_start:a]
        if not before.strip():  # the date opens its line: the label may end the line above
            prev = dump.rfind("\n", 0, max(line_start - 1, 0)) + 1
            before = dump[prev:line_start]
        if not UPDATED.search(before[-40:]):
            return True, None
    return False, "the dump shows this date only as an update date"
