"""The extraction core: blocks, date rules, no-article pages, the HTML path's metadata and bad input."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from briefing.config import load_settings
from briefing.errors import NoArticleError, SeedError
from briefing.services.ingest import ingest
from briefing.sources.extract import MAX_HTML_BYTES, decode_html, extract_html, extract_text
from briefing.sources.seed import SeedParser
from briefing.store.db import open_engine
from briefing.store.schema import articles

TODAY = date(2026, 6, 1)
NAV = "\n".join(["Home", "World", "Politics", "Business", "Tech", "Science", "Sport", "Opinion"])
PARAS = [
    "The council voted on Tuesday to close the old bridge to cars from next spring, after an "
    "engineering report found that its steel supports had corroded far faster than expected.",
    "Residents who spoke at the meeting were divided: some said the closure would cut the town "
    "in two, while others argued that the bridge had been unsafe for years and should go.",
    "The mayor said a temporary footbridge would open within a month of the closure, and that "
    "the council would ask the regional government to pay for most of a new crossing.",
    "Work on the design is expected to start in the autumn, once the budget has been approved "
    "by the council and the public has had a chance to comment on the plans.",
]

FR = (
    "Le conseil municipal a voté mardi la fermeture du vieux pont aux voitures à partir du "
    "printemps prochain, après un rapport qui a montré que les piliers étaient rongés par la rouille."
)
ES = (
    "El consejo municipal votó el martes el cierre del viejo puente a los coches a partir de la "
    "próxima primavera, después de que un informe mostrara que sus pilares estaban muy dañados."
)


def page(*header: str, tail: str = "", top: str = NAV) -> str:
    return "\n".join([top, "", *header, "", "\n\n".join(PARAS), "", tail])


def test_body_is_the_run_of_paragraphs_and_the_menus_are_dropped() -> None:
    ex = extract_text(page("Council votes to close the old bridge", "By Jane Doe", "March 3, 2026"),
                      name="t.txt", today=TODAY)  # fmt: skip
    assert ex.is_article
    assert ex.title.value == "Council votes to close the old bridge"
    assert ex.author.value == "Jane Doe"
    assert ex.published.value == date(2026, 3, 3)
    assert ex.body.startswith("The council voted") and ex.body.endswith("the plans.")
    assert "Politics" not in ex.body and "Jane Doe" not in ex.body
    kinds = {b.kind for b in ex.dropped}
    assert "navigation" in kinds or "header" in kinds
    assert ex.title.confidence > 0.5 and not ex.title.uncertain
    assert "title" in ex.explain() and "dropped lines" in ex.explain()


def test_comments_below_the_article_are_dropped_with_their_dates() -> None:
    tail = "\n".join(["3 Comments", "Bob Smith", "March 9, 2026",
                      "I think this is a terrible decision and the council should reconsider it at once."])  # fmt: skip
    ex = extract_text(page("Council votes to close the old bridge", "By Jane Doe", tail=tail),
                      name="t.txt", today=TODAY)  # fmt: skip
    assert "terrible decision" not in ex.body
    assert ex.published.value is None  # the only date is a comment's
    assert any("comments heading" in r for r in ex.published.refused)
    assert any(b.kind == "comments" for b in ex.dropped)


def test_dates_in_the_nav_bar_and_a_related_list_are_never_the_articles() -> None:
    top = "Sunday, March 1, 2026\n" + "\n".join(f"Section {i}" for i in range(40))
    related = "\n".join(["Related", "Bridge tolls to rise again next year", "February 2, 2026",
                         "Mayor opens new library in the old market hall", "January 5, 2026"])  # fmt: skip
    ex = extract_text(page("Council votes to close the old bridge", "By Jane Doe", top=top,
                           tail=related), name="t.txt", today=TODAY)  # fmt: skip
    assert ex.published.value is None
    assert "Bridge tolls" not in ex.body


def test_a_page_with_no_visible_date_gets_none() -> None:
    ex = extract_text(page("Council votes to close the old bridge", "By Jane Doe"), name="t.txt")
    assert ex.published.value is None and ex.published.confidence == 0.0


def test_a_date_without_a_time_stays_that_date_and_a_zone_is_kept_not_shifted() -> None:
    plain = extract_text(page("Council votes to close the old bridge", "By Jane Doe",
                              "December 31, 2025"), name="t.txt", today=TODAY)  # fmt: skip
    assert plain.published.value == date(2025, 12, 31)
    zoned = extract_text(page("Council votes to close the old bridge", "By Jane Doe",
                              "December 31, 2025 11:30 PM PST"), name="t.txt", today=TODAY)  # fmt: skip
    value = zoned.published.value
    assert isinstance(value, datetime) and value.date() == date(2025, 12, 31)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == -8 * 3600  # type: ignore[union-attr]


def test_bylines_and_dates_in_other_languages() -> None:
    fr = "\n".join([NAV, "Le conseil vote la fermeture du vieux pont",
                     "Par Alexandre Hervaud et Jérémy Piette — 24 novembre 2017 à 18:42", "",
                     "\n\n".join([FR] * 3)])  # fmt: skip
    ex = extract_text(fr, name="fr.txt", today=TODAY)
    assert ex.author.value == "Alexandre Hervaud and Jérémy Piette"
    assert ex.published.value == date(2017, 11, 24)
    es = "\n".join([NAV, "El consejo cierra el puente", "por", "César Salza", "1 de diciembre de 2017",
                     "", "\n\n".join([ES] * 3)])  # fmt: skip
    ex = extract_text(es, name="es.txt", today=TODAY)
    assert ex.author.value == "César Salza"
    assert ex.published.value == date(2017, 12, 1)


def test_a_copyright_holder_is_not_the_publisher_when_the_masthead_is_named() -> None:
    text = page("Council votes to close the old bridge", "By Jane Doe", top="The Riverton Courier\n" + NAV,
                tail="© 2026 Hearst Communications, Inc. All rights reserved.")  # fmt: skip
    ex = extract_text(text, name="t.txt", today=TODAY)
    assert ex.publisher.value != "Hearst Communications, Inc."
    assert any("copyright holder" in r for r in ex.publisher.refused)
    # one logo line is too little for the learned model to name the masthead as fact, but
    # neither the extractor nor seed ingest passes the copyright holder off as the publisher
    assert ex.publisher.runner_up is not None
    assert ex.publisher.runner_up.value == "The Riverton Courier"
    assert SeedParser().parse_text(text, source="t.txt").publisher != "Hearst Communications, Inc."


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "\n".join(f"Story number {i} about the town\n{i} March 2026" for i in range(1, 30)),
            "no article",
        ),
        (
            "We use cookies to improve your experience. Accept all cookies?\nAccept\nReject",
            "no article",
        ),
        (NAV + "\nSearch\nSign in", "no"),
    ],
    ids=["list-page", "cookie-wall", "menus-only"],
)
def test_pages_with_no_article_say_so(text: str, why: str) -> None:
    ex = extract_text(text, name="x.txt", today=TODAY)
    assert not ex.is_article and ex.body == ""
    assert ex.no_article


def test_seed_ingest_warns_about_a_page_with_no_article_and_stores_nothing(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "home.txt").write_text(
        "\n".join(f"Story number {i} about the town\n{i} March 2026" for i in range(1, 30)), "utf-8"
    )
    shutil.copy(
        Path(__file__).parent.parent
        / "seeds"
        / sorted(p.name for p in (Path(__file__).parent.parent / "seeds").iterdir())[0],
        seeds,
    )
    settings = load_settings(None, env={}, overrides={"storage": {"url": f"sqlite:///{tmp_path}/b.db"},
                                                      "seeds": {"folder": str(seeds)}})  # fmt: skip
    engine = open_engine(settings.database_url)
    reports = {r.source: r for r in ingest(settings, engine, now=datetime(2026, 5, 1, tzinfo=UTC))}
    home = reports["seed:home.txt"]
    assert home.status == "warning" and home.failed == 0 and home.new == 0
    assert home.warnings and "no article" in home.warnings[0]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar_one() == 1


# -- the HTML path ----------------------------------------------------------------------------

BODY_HTML = "".join(f"<p>{p}</p>" for p in PARAS)


def html_page(head: str = "", header: str = "", charset: str = "utf-8") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="{charset}">{head}</head><body>'
        f"<nav><ul><li>Home</li><li>World</li></ul></nav><article>{header}{BODY_HTML}</article>"
        "<footer>© 2026 Example Media LLC</footer></body></html>"
    )


def test_html_metadata_from_the_articles_json_ld_not_the_websites() -> None:
    head = (
        "<title>Council votes to close the old bridge | The Courier</title>"
        '<meta property="og:site_name" content="The Courier">'
        '<script type="application/ld+json">[{"@type": "WebSite", "name": "The Courier", '
        '"datePublished": "2001-01-01"}, {"@type": "NewsArticle", "headline": '
        '"Council votes to close the old bridge", "datePublished": "2026-03-03T09:00:00+01:00", '
        '"author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"}]}]'
        "</script>"
    )
    header = "<h1>Council votes to close the old bridge</h1><p>By Jane Doe and John Roe</p>"
    ex = extract_html(html_page(head, header).encode(),
                      url="https://example.org/a?utm_source=x", name="a.html", today=TODAY)  # fmt: skip
    assert ex.title.value == "Council votes to close the old bridge"
    assert ex.author.value == "Jane Doe and John Roe"
    value = ex.published.value
    assert isinstance(value, datetime) and value.date() == date(2026, 3, 3)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert ex.publisher.value == "The Courier"
    assert ex.body.startswith("The council voted")


def test_html_dates_in_the_future_or_only_guessed_are_refused() -> None:
    head = '<meta property="article:published_time" content="2031-01-01">'
    ex = extract_html(html_page(head, "<h1>Council votes to close the old bridge</h1>").encode(),
                      name="f.html", today=TODAY)  # fmt: skip
    assert ex.published.value is None
    assert any("future" in r for r in ex.published.refused)


def test_html_in_a_legacy_encoding_is_read_through_its_meta_charset() -> None:
    data = html_page("", "<h1>Café crème à l'école</h1>", charset="windows-1252").encode("cp1252")
    text, encoding = decode_html(data, "old.html")
    assert "Café crème à l'école" in text and encoding == "cp1252"
    ex = extract_html(data, name="old.html", today=TODAY)
    assert ex.title.value == "Café crème à l'école"
    assert any("cp1252" in n for n in ex.notes)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"%PDF-1.7 binary", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n....", "a PNG image"),
        (b"<html>\x00\x00\x00\x01binary", "binary"),
        (b"<p>" + b"x" * (MAX_HTML_BYTES + 1), "over the"),
    ],
    ids=["empty", "blank", "pdf", "png", "binary", "oversize"],
)
def test_bad_html_input_names_the_file(data: bytes, message: str) -> None:
    with pytest.raises(SeedError) as info:
        extract_html(data, name="seeds/bad.html")
    assert "seeds/bad.html" in str(info.value) and message in str(info.value)


def test_html_seed_files_are_ingested_and_a_list_page_is_no_article(tmp_path: Path) -> None:
    head = '<meta property="og:site_name" content="The Courier">'
    good = tmp_path / "story.html"
    good.write_text(
        html_page(head, "<h1>Council votes to close the old bridge</h1><p>By Jane Doe</p>"), "utf-8"
    )
    article = SeedParser().parse_file(good, source="seed:story.html")
    assert article.title == "Council votes to close the old bridge"
    assert article.publisher == "The Courier"
    assert "The council voted" in article.body
    empty = tmp_path / "list.htm"
    empty.write_text(
        "<html><body><ul><li><a href='/a'>One</a></li><li>Two</li></ul></body></html>", "utf-8"
    )
    with pytest.raises(NoArticleError):
        SeedParser().parse_file(empty, source="seed:list.htm")
