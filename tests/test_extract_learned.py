"""The text path's learned models: scoring, abstaining, the shipped weights, and the
candidate rules the models choose among (bylines, dates in digits, the body's run)."""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from briefing.sources.extract import extract_text, learned
from briefing.sources.extract.language import language
from briefing.sources.extract.lines import read_dump
from briefing.sources.extract.scoring import Scored, choose_learned
from briefing.sources.extract.text import boilerplate_pattern
from briefing.sources.seed import SeedParser

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 6, 1)
NAV = "\n".join(["Home", "World", "Politics", "Business", "Tech", "Science", "Sport", "Opinion"])
FOOTER = "\n".join(["Most read", "Bridge tolls to rise again next year",
                    "Mayor opens new library in the old market hall", "About us", "Contact",
                    "© 2026 The Riverton Courier. All rights reserved."])  # fmt: skip
FR_PARAS = [
    "Le conseil municipal a voté mardi la fermeture du vieux pont aux voitures à partir du "
    "printemps prochain, après un rapport qui a montré que les piliers étaient rongés par la rouille.",
    "Les habitants venus à la réunion étaient divisés : certains ont dit que la fermeture "
    "couperait la ville en deux, d'autres que le pont était dangereux depuis des années.",
    "Le maire a promis une passerelle provisoire dans le mois qui suivra la fermeture, et une "
    "demande d'aide à la région pour payer la plus grande partie d'un nouveau pont.",
]
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


def test_a_linear_model_is_its_bias_plus_each_features_share() -> None:
    m = learned.Linear(bias=0.5, weights={"a": 2.0, "b": -1.0}, means={"a": 0.25}, threshold=0.6)
    f = {"a": 1.0, "b": 2.0, "unknown": 9.0}
    assert m.logit(f) == pytest.approx(0.5 + 2.0 * 0.75 - 2.0)
    assert m.contributions(f) == [("b", -2.0), ("a", 1.5)]  # strongest first
    assert m.logit({}) == pytest.approx(0.5 - 0.5)  # absent features count as 0
    again = learned.Linear.from_json(json.loads(json.dumps(m.to_json())))
    assert again.logit(f) == pytest.approx(m.logit(f)) and again.threshold == 0.6


def test_the_shipped_weights_are_small_and_hold_every_decision() -> None:
    text = resources.files("briefing.sources.extract").joinpath("weights.json").read_text("utf-8")
    assert len(text.encode()) < 300_000
    models = json.loads(text)["models"]
    assert set(models) == {"body", "title", "author", "date", "publisher"}
    for name in ("author", "date", "publisher"):
        assert 0.0 < models[name]["threshold"] < 1.0, name
    assert all(learned.model(name) is not None for name in models)


def _candidates(*pairs: tuple[str, float]) -> list[Scored]:
    out = []
    for value, x in pairs:
        c = Scored(value, f"line {len(out) + 1}", line=len(out) + 1)
        c.set("evidence", x)
        out.append(c)
    return out


def test_a_learned_choice_abstains_below_its_threshold_and_names_the_best_it_refused() -> None:
    m = learned.Linear(bias=0.0, weights={"evidence": 1.0}, means={}, threshold=0.7)
    sure = choose_learned("author", _candidates(("Jane Doe", 4.0), ("Bob Roe", 0.0)), m,
                          rule="r", abstain=True)  # fmt: skip
    assert sure.value == "Jane Doe" and sure.confidence > 0.9
    assert sure.runner_up is not None and sure.runner_up.value == "Bob Roe"
    assert sure.chosen is not None and sure.chosen.why[0].startswith("+4.0 evidence")
    weak = choose_learned("author", _candidates(("Jane Doe", 0.5), ("Bob Roe", 0.2)), m,
                          rule="r", abstain=True)  # fmt: skip
    assert weak.value is None and weak.confidence == 0.0
    assert "not likely enough" in weak.reason or "no candidate is likely" in weak.reason
    assert weak.runner_up is not None and weak.runner_up.value == "Jane Doe"
    # the same value seen twice pools its probability
    twice = choose_learned("author", _candidates(("Jane Doe", 1.0), ("Jane Doe", 1.0)), m,
                           rule="r", abstain=True)  # fmt: skip
    assert twice.value == "Jane Doe" and twice.confidence > 0.8


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("on March 10, 2015 by Nikhil Marathe", "Nikhil Marathe"),
        ("Posted by Andrew Hayden, Software Engineer on Google Play", "Andrew Hayden"),
        ("By TOMOKO OTAKE/ Staff Writer", "Tomoko Otake"),
        ("On 6/13/2018 by @lazharichir", "lazharichir"),
        ("Sarah Gooding March 9, 2017 13", "Sarah Gooding"),
    ],
)
def test_bylines_as_real_pages_write_them(line: str, names: str) -> None:
    text = "\n".join([NAV, "", "Council votes to close the old bridge", line, "", *PARAS, FOOTER])
    ex = extract_text(text, name="t.txt", today=TODAY)
    assert ex.author.value == names, ex.explain()


def test_a_byline_that_is_one_part_of_a_separator_line_with_co_authors() -> None:
    line = "Le Monde | 04.05.2015 à 13h36 | Par Martin Untersinger (avec Damien Leloup et Morgane Tual)"
    text = "\n".join([NAV, "", "Le conseil vote la fermeture du vieux pont", line, "", *FR_PARAS,
                      FOOTER])  # fmt: skip
    ex = extract_text(text, name="t.txt", today=TODAY)
    assert ex.lang == "fr"
    assert ex.author.value == "Martin Untersinger, Damien Leloup and Morgane Tual", ex.explain()


def test_a_glued_label_is_not_a_persons_name() -> None:
    text = "\n".join([NAV, "", "PoliticsAI Analysis", "Council votes to close the old bridge",
                      "March 3, 2026", "", *PARAS])  # fmt: skip
    ex = extract_text(text, name="t.txt", today=TODAY)
    assert ex.author.value != "PoliticsAI Analysis"
    assert "PoliticsAI Analysis" not in {ex.author.runner_up.value if ex.author.runner_up else None}


def test_dates_in_digits_take_the_order_the_pages_other_dates_show() -> None:
    # an English page month-first by default, but its comment dates show day-first
    text = "Posted 02/10/2020\n\nSome text of the article.\n\nReply 25/12/2022"
    found = [f.day for ln in read_dump(text, boilerplate_pattern()).lines for f in ln.dates]
    assert found == [date(2020, 10, 2), date(2022, 12, 25)]
    alone = [f for ln in read_dump("Posted 02/10/2020", boilerplate_pattern()).lines
             for f in ln.dates]  # fmt: skip
    assert alone[0].day == date(2020, 2, 10) and alone[0].ambiguous


def test_a_lone_advertisement_line_does_not_cut_the_article_in_two() -> None:
    text = "\n".join([NAV, "", "Council votes to close the old bridge", "By Jane Doe", "",
                      PARAS[0], "", PARAS[1], "", "Advertisement", "", PARAS[2], "", PARAS[3],
                      FOOTER])  # fmt: skip
    ex = extract_text(text, name="t.txt", today=TODAY)
    assert ex.body.startswith("The council voted") and ex.body.endswith("on the plans.")
    assert "Advertisement" not in ex.body


def test_a_subheading_that_reads_like_a_comments_heading_does_not_end_the_body() -> None:
    # the line heuristics end an article at "Responses"; the body model reads on
    text = "\n".join([NAV, "", "Council votes to close the old bridge", "By Jane Doe",
                      "March 3, 2026", "", PARAS[0], "", PARAS[1], "", "Responses", "", PARAS[2],
                      "", PARAS[3], "", FOOTER])  # fmt: skip
    a = SeedParser().parse_text(text, source="t.txt")
    assert a.body.endswith("comment on the plans."), a.body[-80:]


def test_the_explanation_names_the_features_that_won_and_the_runner_up() -> None:
    text = "\n".join([NAV, "", "Council votes to close the old bridge", "By Jane Doe",
                      "March 3, 2026", "", *PARAS, FOOTER])  # fmt: skip
    ex = extract_text(text, name="t.txt", today=TODAY)
    shown = ex.explain()
    assert "title: 'Council votes to close the old bridge'" in shown
    assert "runner-up" in shown and "byline" in shown
    data = ex.to_json()["fields"]["title"]
    assert data["chosen"]["why"] and data["runner_up"] is not None


def test_french_month_names_come_from_cldr() -> None:
    assert language("French").months["décembre"] == 12


@pytest.mark.skipif(
    importlib.util.find_spec("scipy") is None or importlib.util.find_spec("sklearn") is None,
    reason="the train extra (scikit-learn, scipy) is not installed: training was not checked",
)
def test_the_ranker_learns_which_candidate_is_right_and_when_none_is() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from train_extract import fit_ranker

    groups = [([{"good": 1.0}, {"good": 0.0}], [True, False]) for _ in range(20)]
    groups += [([{"good": 0.0}], [False]) for _ in range(20)]  # no right one: "none"
    m = fit_ranker(groups, 10.0, abstain=True)
    assert m.logit({"good": 1.0}) > 1.0 > 0 > m.logit({"good": 0.0})


def test_an_expiry_date_is_never_the_publication_date() -> None:
    text = "\n".join([NAV, "", "Council votes to close the old bridge", "By Jane Doe",
                      "Expires: 18 June 2026", "", *PARAS, FOOTER])  # fmt: skip
    ex = extract_text(text, name="t.txt", today=TODAY)
    assert ex.published.value is None
    assert any("expiry" in r for r in ex.published.refused)
