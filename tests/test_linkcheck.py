"""The desk's link check reads an email's links with an HTML parser."""

from __future__ import annotations

from briefing.web.linkcheck import links_in


def test_links_in_reads_every_quoting_and_decodes_entities() -> None:
    html = (
        '<a href="https://a.example/x?a=1&amp;b=2">a</a>'
        "<a href='http://b.example/'>b</a>"
        "<a href=https://c.example/c>c</a>"
        '<link rel="x" href="https://d.example/style">'
        '<a href="mailto:me@example.org">m</a><a href="/relative">r</a>'
        '<a href="https://a.example/x?a=1&amp;b=2">again</a>'
        "<p>href=https://text.example/ is only text</p>"
    )
    assert links_in(html) == [
        "http://b.example/",
        "https://a.example/x?a=1&b=2",
        "https://c.example/c",
        "https://d.example/style",
    ]


def test_links_in_leaves_out_the_skipped_prefixes() -> None:
    html = '<a href="https://n.example/u/T">u</a><a href="https://n.example/archive/3">a</a>'
    assert links_in(html, skip=("https://n.example/u/",)) == ["https://n.example/archive/3"]
