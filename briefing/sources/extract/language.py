"""What a page's language tells the extractor: its stopwords, month names and byline words.

Stopword lists come from jusText (frequent-word lists for about a hundred languages),
month names from Babel's CLDR data; both are maintained libraries, so a page in
Portuguese or Czech is read with the same rules as one in English. The page's language
is guessed as the one whose stopwords cover most of its words: stopword density is also
the best single sign that a line is prose rather than a menu (jusText's own insight).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

import justext
from babel.dates import get_day_names, get_month_names

# Languages the extractor knows: jusText stoplist name -> CLDR locale.
LANGUAGES: dict[str, str] = {
    "English": "en",
    "French": "fr",
    "Spanish": "es",
    "German": "de",
    "Portuguese": "pt",
    "Italian": "it",
    "Dutch": "nl",
    "Czech": "cs",
    "Slovak": "sk",
    "Polish": "pl",
    "Swedish": "sv",
    "Danish": "da",
    "Norwegian_Bokmal": "nb",
    "Finnish": "fi",
    "Romanian": "ro",
    "Hungarian": "hu",
    "Turkish": "tr",
    "Catalan": "ca",
    "Croatian": "hr",
    "Slovenian": "sl",
    "Indonesian": "id",
}
# "By" in bylines, per language (the word alone, before the names).
BY_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "by",
        "written by",
        "posted by",
        "words by",
        "story by",
        "reporting by",
        "author",
        "authors",
    ),
    "fr": ("par", "auteur", "auteurs", "publié par", "écrit par"),
    "es": ("por", "autor", "autores", "escrito por", "publicado por"),
    "de": ("von", "autor", "autorin", "autoren"),
    "pt": ("por", "autor", "autores", "escrito por"),
    "it": ("di", "autore", "a cura di", "scritto da"),
    "nl": ("door", "auteur"),
    "cs": ("autor", "autorka", "napsal", "napsala"),
    "sk": ("autor", "autorka"),
    "pl": ("autor", "autorka"),
    "sv": ("av", "skribent"),
    "da": ("af", "skribent"),
    "nb": ("av",),
    "fi": ("kirjoittaja",),
    "ro": ("de", "autor"),
    "hu": ("szerző",),
    "tr": ("yazar",),
    "ca": ("per", "autor"),
    "hr": ("autor", "piše"),
    "sl": ("avtor", "piše"),
    "id": ("oleh", "penulis"),
}
PUBLISHED_WORDS = (
    r"published|posted|first published|publié|publié le|publicado|publicada|veröffentlicht|"
    r"pubblicato|gepubliceerd|publikováno|publikowano|publicerad|udgivet|publisert|julkaistu"
)
UPDATED_WORDS = (
    r"updated|last updated|modified|edited|mis à jour|mise à jour|actualizado|actualizada|"
    r"atualizado|atualizada|aktualisiert|aggiornato|bijgewerkt|aktualizováno|zaktualizowano|"
    r"uppdaterad|opdateret|oppdatert|päivitetty"
)
_TOKEN = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Language:
    name: str  # jusText's name, "English"
    code: str  # ISO 639-1, "en"
    stopwords: frozenset[str]
    months: dict[str, int]  # lowercased name or abbreviation (no final dot) -> 1..12
    weekdays: frozenset[str]
    by_words: tuple[str, ...]


@cache
def language(name: str) -> Language:
    code = LANGUAGES[name]
    months: dict[str, int] = {}
    weekdays: set[str] = set()
    for locale in dict.fromkeys([code, "en"]):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for num, month in get_month_names(width, context, locale).items():
                    key = month.lower().rstrip(".")
                    if len(key) >= 3 and key not in months:
                        months[key] = num
                for day in get_day_names(width, context, locale).values():
                    weekdays.add(day.lower().rstrip("."))
    if code == "en":
        months["sept"] = 9
    stop = _stopwords(name)
    by = BY_WORDS.get(code, ())
    return Language(
        name, code, stop, months, frozenset(weekdays), tuple(dict.fromkeys((*by, *BY_WORDS["en"])))
    )


@cache
def _stopwords(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in justext.get_stoplist(name))


@cache
def _all_stopwords() -> dict[str, frozenset[str]]:
    # the stoplists only: month and day names (Babel) are loaded for the language chosen
    return {name: _stopwords(name) for name in LANGUAGES}


def guess_language(words: list[str]) -> Language:
    """The language whose stopwords cover most of ``words`` (English when nothing fits)."""
    sample = Counter(w.lower() for w in words[:4000])
    best, best_hits = "English", 0
    for name, stop in _all_stopwords().items():
        hits = sum(n for w, n in sample.items() if w in stop)
        if hits > best_hits * 1.02:  # ties go to the earlier, more common language
            best, best_hits = name, hits
    return language(best)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def stopword_density(text: str, lang: Language) -> float:
    words = tokens(text.lower())
    if not words:
        return 0.0
    return sum(1 for w in words if w in lang.stopwords) / len(words)
