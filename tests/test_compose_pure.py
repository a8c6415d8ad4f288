"""briefing.deliver.compose's pure helpers, one by one: the body cut into constant runs and
placeholder lines, the per-recipient splice, HTML escaping, unstructured header lines.

tests/test_compose.py checks the whole message against ``build_message``; these say which
helper is wrong when that fails. No settings, no rendering, no network.
"""

from __future__ import annotations

import email.header
import quopri

import pytest

from briefing import placeholders
from briefing.deliver import compose as c

# the placeholders, by the key a recipient's value is given under (briefing/placeholders.py)
SLOT = dict(placeholders.PLACEHOLDERS)
UNSUB, PREFS, NAME = SLOT["unsubscribe"], SLOT["preferences"], SLOT["name"]
VALUES = {
    "unsubscribe": "https://news.example.org/u/tok?a=1&b=2",
    "preferences": "https://news.example.org/p/tok",
    "name": "Ännä",
}


def decoded(encoded: str) -> str:
    """Quoted-printable (CRLF line ends) back to text with LF line ends."""
    return quopri.decodestring(encoded.encode("ascii")).decode("utf-8").replace("\r\n", "\n")


def test_the_three_placeholders_are_the_keys_for_recipient_values() -> None:
    assert set(SLOT) == {"unsubscribe", "preferences", "name"}
    assert len(set(SLOT.values())) == 3


def test_a_body_is_cut_into_constant_runs_and_placeholder_lines() -> None:
    text = f"Hello\nthere\n{UNSUB}\nMiddle\nDear {NAME}, see {PREFS}\nBye\n"
    body = c._Body.of(text, escape=False)
    assert [dynamic for dynamic, _ in body.pieces] == [False, True, False, True, False]
    assert [t for dynamic, t in body.pieces if dynamic] == [UNSUB, f"Dear {NAME}, see {PREFS}"]
    constant = [t for dynamic, t in body.pieces if not dynamic]
    assert [decoded(t) for t in constant] == ["Hello\nthere", "Middle", "Bye\n"]


def test_crlf_and_lf_bodies_are_cut_alike() -> None:
    lf = c._Body.of(f"a\n{UNSUB}\nb\n", escape=False)
    crlf = c._Body.of(f"a\r\n{UNSUB}\r\nb\r\n", escape=False)
    assert lf == crlf


def test_a_body_without_placeholders_is_one_constant_piece() -> None:
    body = c._Body.of("Just text\nand more\n", escape=False)
    assert len(body.pieces) == 1 and body.pieces[0][0] is False
    assert decoded(body.encode({})) == "Just text\nand more\n"


def test_the_splice_gives_the_text_with_the_recipients_values() -> None:
    text = f"Hi {NAME},\nLeave: {UNSUB}\nChange: {PREFS}\nBye\n"
    out = c._Body.of(text, escape=False).encode(VALUES)
    assert decoded(out) == (
        "Hi Ännä,\nLeave: https://news.example.org/u/tok?a=1&b=2\n"
        "Change: https://news.example.org/p/tok\nBye\n"
    )
    assert "@@=" not in decoded(out)


def test_each_recipient_gets_their_own_values_from_one_body() -> None:
    body = c._Body.of(f"{UNSUB}\n", escape=False)
    one = decoded(body.encode({**VALUES, "unsubscribe": "https://x.example/1"}))
    two = decoded(body.encode({**VALUES, "unsubscribe": "https://x.example/2"}))
    assert (one, two) == ("https://x.example/1\n", "https://x.example/2\n")


def test_html_values_are_escaped_and_text_values_are_not() -> None:
    hostile = {**VALUES, "name": "<b>\"Tom\" & 'Jerry'</b>"}
    html = decoded(c._Body.of(f"<p>Hi {NAME}</p>\n", escape=True).encode(hostile))
    text = decoded(c._Body.of(f"Hi {NAME}\n", escape=False).encode(hostile))
    assert html == "<p>Hi &lt;b&gt;&quot;Tom&quot; &amp; &#x27;Jerry&#x27;&lt;/b&gt;</p>\n"
    assert text == "Hi <b>\"Tom\" & 'Jerry'</b>\n"


def test_value_escapes_the_ampersand_first() -> None:
    assert c._value("&lt;", escape=True) == "&amp;lt;"  # not left looking like an entity
    assert c._value("&lt;", escape=False) == "&lt;"


def test_long_lines_are_wrapped_at_76_and_come_back_whole() -> None:
    long_url = "https://news.example.org/u/" + "t" * 200
    text = ("word " * 40).strip() + f"\nLeave: {UNSUB}\n" + "é" * 100 + "\n"
    out = c._Body.of(text, escape=False).encode({**VALUES, "unsubscribe": long_url})
    assert max(len(line) for line in out.split("\r\n")) <= 76
    assert out.isascii()
    assert decoded(out) == ("word " * 40).strip() + f"\nLeave: {long_url}\n" + "é" * 100 + "\n"


def test_a_short_plain_ascii_header_is_written_as_it_is() -> None:
    assert c._header_line("Subject", "This week: 3 stories") == "Subject: This week: 3 stories\r\n"
    assert c._header_line("X-Long", "x" * 899) == f"X-Long: {'x' * 899}\r\n"  # under 900


@pytest.mark.parametrize(
    "value",
    [
        "Japan’s defense",  # not ASCII
        "looks like =?utf-8?q?an_encoded_word?=",  # would be decoded by a reader
        "tab\there",  # not printable
        "x" * 900,  # too long for one line
    ],
)
def test_any_other_header_is_encoded_and_decodes_to_the_same_text(value: str) -> None:
    line = c._header_line("Subject", value)
    assert line.startswith("Subject: =?utf-8?") and line.endswith("\r\n")
    assert line.isascii()
    assert max(len(physical) for physical in line.split("\r\n")) < 998
    raw = line.removeprefix("Subject: ").removesuffix("\r\n")
    assert str(email.header.make_header(email.header.decode_header(raw))) == value


@pytest.mark.parametrize("bad", ["a\r\nBcc: x@example.org", "a\nb", "a\rb"])
def test_a_header_with_a_line_break_is_refused(bad: str) -> None:
    with pytest.raises(Exception, match="Subject holds CR or LF") as caught:
        c._header_line("Subject", bad)
    assert type(caught.value).__name__ == "UnsafeHeader"


def test_join_puts_the_placeholders_back_between_literal_parts() -> None:
    parts = ["<p>", "name", "</p><a href=", "unsubscribe", ">x</a>"]
    assert placeholders.join(parts) == ["<p>", NAME, "</p><a href=", UNSUB, ">x</a>"]
    assert placeholders.join(["only literal"]) == ["only literal"]
