"""The user's two seed pages, field by field, and the seed parser's edge cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from briefing.errors import SeedError
from briefing.sources.seed import SeedParser

SEEDS = Path(__file__).parent.parent / "seeds"
PRISM = SEEDS / "000_005a04db57d134a5.txt"
NVNK = SEEDS / "001_016901a4378f2971.txt"

BOILERPLATE = [
    "Liabooks",
    "Advertise with Us",
    "email protected",
    "[email",
    "Related Articles",
    "Related Posts",
    "Thoughts",
    "top of page",
    "bottom of page",
    "min read",
    "© 2026",
    "AI-generated",
    "PoliticsAI",
    "\n}\n",
    "\n\nPRISM\n\n",
    "NVNK",
]


@pytest.fixture(scope="module")
def parser() -> SeedParser:
    return SeedParser()


def test_prism_news_page(parser: SeedParser) -> None:
    a = parser.parse_file(PRISM)
    assert a.title == "Why North Korea Really Fears Japan's Defense Partnerships"
    assert a.publisher == "PRISM News"
    assert a.author is None
    assert a.published is None  # the page gives no date: none is invented
    assert a.ai_generated is True
    assert a.ai_disclosure == "This content is AI-generated based on source articles."
    assert a.labels == ("Politics", "AI Analysis")
    assert a.section == "Politics"
    assert a.reading_time_min == 3
    assert a.summary.startswith("North Korea slammed Japan's defense deal with Canada")
    assert a.summary.endswith("shifting military balance in Northeast Asia.")
    paragraphs = a.body.split("\n\n")
    assert paragraphs[0].startswith("When Japan and Canada signed their defense equipment")
    assert paragraphs[-1].endswith("potentially volatile—security environment.")
    assert "Japan's Quiet Revolution" in paragraphs  # subheadings are article text
    assert "The Strategic Paradox" in paragraphs
    # the ad slot in the middle of the article is gone, the text around it joined up
    assert (
        paragraphs.index(
            "With Japan committed to reaching 2% of GDP in defense spending by 2027, "
            "North Korea sees the military environment around the Korean Peninsula "
            "fundamentally shifting. The pacifist neighbor is becoming an active security partner."
        )
        > 0
    )
    for junk in BOILERPLATE:
        assert junk not in "\n\n" + a.body + "\n\n", junk
    assert a.summary not in a.body
    assert a.source_kind == "seed"
    assert a.url is None


def test_nvnk_page(parser: SeedParser) -> None:
    a = parser.parse_file(NVNK)
    assert a.title == "Why North Korea Fears Japan’s Record Defense Buildup"
    assert a.publisher == "NVNK"  # from "© 2026 NVNK"
    assert a.author is None
    assert a.published == date(2026, 1, 7)  # "Jan 7" beside "© 2026"
    assert a.ai_generated is False
    assert a.ai_disclosure is None
    assert a.labels == ()
    assert a.reading_time_min == 2
    assert a.summary.startswith(
        "North Korea’s fierce condemnation of Japan’s record defense budget"
    )
    paragraphs = a.body.split("\n\n")
    assert len(paragraphs) == 8
    assert paragraphs[0].startswith("North Korea on January 6 strongly condemned")
    assert "US$57.7 billion" in paragraphs[0]
    assert "\u00a0" not in a.body  # non-breaking spaces made plain
    assert paragraphs[-1].endswith("a prospect Pyongyang clearly finds intolerable.")
    for junk in BOILERPLATE:
        assert junk not in "\n\n" + a.body + "\n\n", junk


def test_ids_are_stable_and_distinct(parser: SeedParser) -> None:
    assert parser.parse_file(PRISM).id == parser.parse_file(PRISM).id
    assert parser.parse_file(PRISM).id != parser.parse_file(NVNK).id


PAGE = """Skip to content
Home > World > Asia

Kicker

Ministers Agree New Rules for Coastal Patrols

By Jane Doe and John Roe | 12 February 2026 | 4 min read

We use cookies to improve your experience. By continuing you accept our cookie policy.

Accept all

Share
Facebook
Twitter
Copy link

Ministers from both countries agreed on Thursday to new rules for coastal patrols, ending a year of talks.

The agreement sets out how ships from each navy will signal one another when they meet in disputed waters, officials said.

Advertisement

Officials said the rules would take effect in the spring, after parliaments in both countries approve them.

Most read
Heatwave closes schools across the region
Central bank holds rates steady
Cup final ends in penalty drama

Copyright 2026 The Example Times. All rights reserved.
"""


def test_generic_page(parser: SeedParser) -> None:
    a = parser.parse_text(PAGE, source="seed:page.txt")
    assert a.title == "Ministers Agree New Rules for Coastal Patrols"
    assert a.author == "Jane Doe and John Roe"
    assert a.published == date(2026, 2, 12)
    assert a.reading_time_min == 4
    assert a.publisher == "The Example Times"
    assert "World" in a.labels and "Asia" in a.labels
    for junk in (
        "cookie",
        "Accept all",
        "Facebook",
        "Copy link",
        "Advertisement",
        "Most read",
        "Heatwave",
        "Central bank",
        "Copyright",
        "Skip to content",
        "Home",
    ):
        assert junk not in a.body, junk
    assert a.body.endswith("after parliaments in both countries approve them.")
    assert a.ai_generated is False


@pytest.mark.parametrize(
    "line, expected",
    [
        ("12 February 2026", date(2026, 2, 12)),
        ("March 3, 2026", date(2026, 3, 3)),
        ("November 18, 2026", date(2026, 11, 18)),
        ("Published: 2026-01-07", date(2026, 1, 7)),
        ("Tue 3 Mar 2026", date(2026, 3, 3)),
        ("Posted on Sept. 9, 2025", date(2025, 9, 9)),
    ],
)
def test_date_formats(parser: SeedParser, line: str, expected: date) -> None:
    text = f"A Headline About Something Important\n\n{line}\n\n" + "\n\n".join(
        ["This is a paragraph of the article with enough words to count as prose for sure."] * 3
    )
    assert parser.parse_text(text, source="seed:t.txt").published == expected


def test_date_without_year_and_no_copyright_stays_empty(parser: SeedParser) -> None:
    text = "A Headline About Something Important\n\nJan 7\n\n" + "\n\n".join(
        ["This is a paragraph of the article with enough words to count as prose for sure."] * 3
    )
    a = parser.parse_text(text, source="seed:t.txt")
    assert a.published is None
    assert any("no year" in n for n in a.notes)


@pytest.mark.parametrize(
    "sentence, flagged",
    [
        ("This article was written by an AI model and checked by an editor.", True),
        ("Disclaimer: This summary was generated with the help of artificial intelligence.", True),
        ("This content is AI-generated based on source articles.", True),
        ("No AI was used to write this article.", False),
        ("This article was not generated by AI.", False),
        ("The company said its chatbot generated most of the code in the report.", False),
    ],
)
def test_ai_disclosures(parser: SeedParser, sentence: str, flagged: bool) -> None:
    body = "\n\n".join(
        ["A paragraph of reporting that says a number of things in full sentences."] * 3
    )
    a = parser.parse_text(
        f"A Headline About Something\n\n{body}\n\n{sentence}\n", source="seed:t.txt"
    )
    assert a.ai_generated is flagged
    assert a.ai_disclosure == (sentence if flagged else None)
    if flagged:  # the notice is provenance, kept as evidence, not article text
        assert sentence not in a.body
    elif "this article" in sentence.lower():  # "no AI was used" is a notice too, kept as a note
        assert sentence not in a.body and any(sentence in n for n in a.notes)
    else:  # reporting about AI is article text
        assert sentence in a.body


def test_front_matter_overrides(parser: SeedParser) -> None:
    text = (
        '+++\nurl = "https://example.org/story?utm_source=x"\npublisher = "Example Wire"\n'
        'author = "A. Writer"\npublished = 2026-03-01\nai_generated = false\n+++\n' + PAGE
    )
    a = parser.parse_text(text, source="seed:fm.txt")
    assert a.url == "https://example.org/story"
    assert a.publisher == "Example Wire"
    assert a.author == "A. Writer"
    assert a.published == date(2026, 3, 1)
    assert a.ai_generated is False
    assert a.title == "Ministers Agree New Rules for Coastal Patrols"


@pytest.mark.parametrize(
    "text, message",
    [
        ("+++\nnonsense = 1\n+++\nTitle Here Now\n", "unknown key"),
        ("+++\nurl = \n+++\nTitle\n", "not valid TOML"),
        ("+++\ntitle = 'x'\n", "never closed"),
        (
            "+++\npublished = 'yesterday'\n+++\nA Title Of Some Length\n\nSome text that is here.\n",
            "not a date",
        ),
    ],
)
def test_bad_front_matter_names_the_problem(parser: SeedParser, text: str, message: str) -> None:
    with pytest.raises(SeedError) as info:
        parser.parse_text(text, source="seed:bad.txt")
    assert "seed:bad.txt" in str(info.value)
    assert message in str(info.value)


def test_files_that_cannot_be_seeds(parser: SeedParser, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n\n")
    with pytest.raises(SeedError, match="empty"):
        parser.parse_file(empty)
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(SeedError, match=r"binary|not text"):
        parser.parse_file(binary)
    folder = tmp_path / "dir.txt"
    folder.mkdir()
    with pytest.raises(SeedError, match="folder"):
        parser.parse_file(folder)


def test_non_utf8_seed_is_decoded(parser: SeedParser, tmp_path: Path) -> None:
    text = PAGE.replace("Ministers Agree", "Ministers Agree Café Rules")
    path = tmp_path / "latin1.txt"
    path.write_bytes(text.encode("cp1252"))
    a = parser.parse_file(path)
    assert a.title == "Ministers Agree Café Rules New Rules for Coastal Patrols"
    assert any("not UTF-8" in n for n in a.notes)


def test_extra_boilerplate_patterns() -> None:
    text = PAGE.replace("Advertisement", "Sponsored by Acme Widgets Ltd")
    assert "Sponsored by Acme" in SeedParser().parse_text(text, source="seed:t").body
    assert (
        "Sponsored by Acme"
        not in SeedParser([r"sponsored by .*"]).parse_text(text, source="seed:t").body
    )
