"""The placeholder splitter shared by rendering and composing (briefing/placeholders.py)."""

from __future__ import annotations

from briefing import placeholders
from briefing.placeholders import PLACEHOLDERS
from briefing.render.compile import Personalizable
from briefing.render.context import PLACEHOLDERS as RENDER_PLACEHOLDERS

TEXT = (
    f"Hello {PLACEHOLDERS['name']},\nleave: {PLACEHOLDERS['unsubscribe']} "
    f"or change: {PLACEHOLDERS['preferences']}{PLACEHOLDERS['name']}"
)


def test_split_alternates_literal_text_and_slot_names() -> None:
    parts = placeholders.split(TEXT)
    assert parts == [
        "Hello ",
        "name",
        ",\nleave: ",
        "unsubscribe",
        " or change: ",
        "preferences",
        "",
        "name",
        "",
    ]
    assert "".join(placeholders.join(parts)) == TEXT


def test_text_without_placeholders_is_one_part() -> None:
    assert placeholders.split("no slots @@=OTHER=@@") == ["no slots @@=OTHER=@@"]
    assert not placeholders.contains("no slots @@=OTHER=@@")
    assert placeholders.contains(TEXT)


def test_fill_replaces_each_marker_by_its_slots_value() -> None:
    values = {"name": "Ada", "unsubscribe": "U", "preferences": "P"}
    assert placeholders.fill(TEXT, values.__getitem__) == "Hello Ada,\nleave: U or change: PAda"


def test_render_and_compose_use_the_same_markers() -> None:
    assert RENDER_PLACEHOLDERS is PLACEHOLDERS
    body = Personalizable.of(TEXT, escape=True)
    assert body.slots == {"name", "unsubscribe", "preferences"}
    assert body.fill({"name": "<A&B>", "unsubscribe": "u", "preferences": "p"}).startswith(
        "Hello &lt;A&amp;B&gt;,"
    )
