"""The CSV import when the file is not quite right: quotes left open, line breaks inside a
value, old Mac line endings, a spreadsheet saved in its own format.

Line numbers are the physical lines a text editor shows (CRLF, LF and a lone CR each end
one line), and each bad row is named by the line it starts on.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.errors import BriefingError
from briefing.subscriber_csv import read_csv

TOPIC = "japan-defense-dprk"
REPO = Path(__file__).parent.parent


def parse(text: str) -> tuple[list[tuple[int, str, str | None]], dict[int, str], list[str]]:
    """(line, email, name) of each good row, {line: reason} of the bad ones, the notes."""
    parsed = read_csv(text.encode(), source="list.csv", known_topics=[TOPIC])
    good = [(r.line, r.email, r.name) for r in parsed.rows]
    return good, dict(parsed.errors), parsed.notes


def test_an_unclosed_quote_is_one_bad_row_and_the_later_rows_still_import() -> None:
    good, bad, _ = parse(
        "email,name\n"
        "ann@example.org,Ann\n"
        'bo@example.org,"Bo Reader\n'  # the quote is never closed
        "cy@example.org,Cy\n"
        "dee@example.org,Dee\n"
    )
    assert good == [
        (2, "ann@example.org", "Ann"),
        (4, "cy@example.org", "Cy"),
        (5, "dee@example.org", "Dee"),
    ]
    assert list(bad) == [3]
    assert "close the quote on line 3" in bad[3]


def test_an_unclosed_quote_on_the_last_line_is_a_bad_row() -> None:
    good, bad, _ = parse('email,name\nann@example.org,Ann\nbo@example.org,"Bo\n')
    assert good == [(2, "ann@example.org", "Ann")]
    assert list(bad) == [3] and "close the quote on line 3" in bad[3]


def test_a_quote_closed_only_on_a_later_line_makes_that_row_bad() -> None:
    # the open quote on line 2 is closed by the quote that opens "Dee, Jr" on line 4
    good, bad, _ = parse(
        "email,name\n"
        'bo@example.org,"Bo\n'
        "cy@example.org,Cy\n"
        'dee@example.org,"Dee, Jr"\n'
        "eve@example.org,Eve\n"
    )
    assert good == [
        (3, "cy@example.org", "Cy"),
        (4, "dee@example.org", "Dee, Jr"),
        (5, "eve@example.org", "Eve"),
    ]
    assert list(bad) == [2]
    assert "name" in bad[2] and "close the quote on line 2" in bad[2]


def test_a_line_break_inside_the_email_makes_the_row_bad() -> None:
    good, bad, _ = parse('email,name\n"ann@example.org\n",Ann\nbo@example.org,Bo\n')
    assert good == [(4, "bo@example.org", "Bo")]
    assert "email" in bad[2] and "line 2" in bad[2]
    assert sorted(bad) == [2]  # the quote closes on line 3: lines 2-3 are one (bad) row


def test_lines_inside_a_closed_quoted_value_are_never_rows() -> None:
    # a well-formed value over several lines (a notes field pasted from a web form) is one
    # value: the addresses typed inside it must not become subscribers nobody asked for
    good, bad, _ = parse(
        "email,name\n"
        'friend@example.org,"Notes: call me\n'
        "injected@victim.example,Injected Person\n"
        "another@victim.example,Another\n"
        '"\n'
        "last@example.org,Last\n"
    )
    assert good == [(6, "last@example.org", "Last")]
    assert list(bad) == [2] and "close the quote on line 2" in bad[2]


def test_a_line_break_inside_a_quoted_name_makes_the_row_bad() -> None:
    good, bad, _ = parse('email,name\nann@example.org,"Ann\nLee"\nbo@example.org,Bo\n')
    assert good == [(4, "bo@example.org", "Bo")]
    assert "name" in bad[2] and "close the quote on line 2" in bad[2]
    assert all("\n" not in (name or "") for _, _, name in good)


def test_line_numbers_are_the_editors_whatever_the_line_endings() -> None:
    for end in ("\r\n", "\r", "\n"):
        text = end.join(
            ["email,name", "ann@example.org,Ann", 'bo@example.org,"Bo', "cy@example.org,Cy", ""]
        )
        good, bad, _ = parse(text)
        assert good == [(2, "ann@example.org", "Ann"), (4, "cy@example.org", "Cy")], repr(end)
        assert list(bad) == [3], repr(end)


def test_an_unclosed_quote_in_a_large_file_does_not_stop_the_import() -> None:
    # the open quote would run past the csv module's field limit (131,072 characters)
    rows = [f"user{i}@example.org,User {i}" for i in range(12_000)]
    good, bad, _ = parse("\n".join(["email,name", 'ann@example.org,"Ann', *rows]) + "\n")
    assert list(bad) == [2] and "close the quote on line 2" in bad[2]
    assert len(good) == 12_000 and good[0] == (3, "user0@example.org", "User 0")


def test_a_line_break_in_an_ignored_column_is_kept_with_a_note() -> None:
    good, bad, notes = parse(
        'email,name,notes\nann@example.org,Ann,"met at\nthe fair"\nbo@example.org,Bo,\n'
    )
    assert good == [(2, "ann@example.org", "Ann"), (4, "bo@example.org", "Bo")]
    assert bad == {}
    assert any("line 2" in n and "notes" in n for n in notes), notes


@pytest.mark.parametrize("data", [b'"email,name\nann@example.org,Ann\n', b'email,"name\n'])
def test_an_unclosed_quote_in_the_header_is_refused(data: bytes) -> None:
    with pytest.raises(BriefingError) as info:
        read_csv(data, source="list.csv", known_topics=[TOPIC])
    assert "list.csv line 1" in info.value.message
    assert "close the quote on line 1" in info.value.hint


def test_a_spreadsheet_workbook_is_named_as_such(tmp_path: Path) -> None:
    book = tmp_path / "list.csv"
    with zipfile.ZipFile(book, "w") as z:  # what Excel writes for .xlsx
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(BriefingError) as info:
        read_csv(book.read_bytes(), source=str(book), known_topics=[TOPIC])
    message = info.value.message
    assert message.startswith(str(book)) and "spreadsheet" in message.removeprefix(str(book))
    assert "CSV" in info.value.hint


def test_cli_import_names_the_line_of_the_open_quote(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    monkeypatch.setenv("BRIEFING_SECRET", "test-secret-" + "s" * 24)
    path = tmp_path / "list.csv"
    path.write_text('email,name\nann@example.org,"Ann\nbo@example.org,Bo\ncy@example.org,Cy\n')
    base = ["--config", str(REPO / "briefing.toml"), "--db", database_url]

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main([*base, *args])
        out, err = capsys.readouterr()
        return int(info.value.code or 0), out, " ".join(err.split())

    code, out, err = run("subscribers", "import", str(path), "--strict")
    assert code == 1 and "line 2:" in err and "close the quote on line 2" in err
    code, out, err = run("subscribers", "import", str(path))
    assert code == 0 and "2 added" in " ".join(out.split()) and "line 2:" in err
    code, out, _ = run("subscribers", "list", "--json")
    stored = {s["email"]: s["name"] for s in json.loads(out)}
    assert stored == {"bo@example.org": "Bo", "cy@example.org": "Cy"}
