"""The composers refuse CR and LF in any header value, whatever its source (defence in
depth behind the cleaning at the entry points); and, for arbitrary Unicode names, subjects
and preheaders, the spliced message parses to exactly its own headers, each once, with no
line over 998 octets and no bare CR or LF (a property test, hypothesis)."""

from __future__ import annotations

import email
import email.header
import email.utils
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing.config import Settings, load_settings
from briefing.deliver.compose import compose
from briefing.deliver.message import (
    Recipient,
    as_bytes,
    build_message,
    list_slug,
    notice,
    sender_domain,
)
from briefing.errors import UnsafeHeader
from briefing.headertext import header_text, name_text
from briefing.models import Article, Issue, IssueStory, IssueView, Story, TopicSection
from briefing.render import render_issue
from briefing.render.compile import RenderedIssue

REPO = Path(__file__).parent.parent
SETTINGS = load_settings(
    REPO / "briefing.toml",
    env={},
    overrides={"newsletter": {"base_url": "https://news.example.org"}},
)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
ADDRESSES = ("reader@example.org", "josé@bücher.example", "用户@例子.广告", "ann@bücher.example")
BASE_HEADERS = Counter(
    [
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Feedback-ID",
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
    ]
)


def view(subject: str = "A subject", preheader: str = "A preheader") -> IssueView:
    a = Article(
        id="a0",
        source_kind="feed",
        source="feed:t",
        title="Japan and North Korea",
        url="https://wire.example.org/0",
        publisher="Wire",
        published=date(2026, 11, 20),
        summary="Summary of the story. " * 5,
    )
    issue = Issue(
        id=9,
        state="approved",
        subject=subject,
        preheader=preheader,
        editor_note=None,
        created_at=NOW,
        updated_at=NOW,
        stories=(IssueStory(a.id, "japan-defense-dprk", (a.id,), 0),),
    )
    story = Story(key=a.id, topic="japan-defense-dprk", articles=(a,))
    return IssueView(issue, (TopicSection("japan-defense-dprk", "Japan", "", (story,)),))


RENDERED = render_issue(view(), SETTINGS, now=NOW)


def wire(address: str) -> str:
    """The address on the wire; Python's own IDNA codec is the oracle."""
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def person(name: str | None, address: str = "reader@example.org") -> Recipient:
    token = "tok0001" + "x" * 30
    return Recipient(
        email=address,
        name=name,
        unsubscribe_url=f"https://news.example.org/u/{token}.sig",
        preferences_url=f"https://news.example.org/p/{token}.sig",
        token=token,
    )


def with_newsletter(**values: str) -> Settings:
    """Settings the config loader would refuse: the composer must hold its own line."""
    return SETTINGS.model_copy(update={"newsletter": SETTINGS.newsletter.model_copy(update=values)})


@pytest.mark.parametrize("bad", ["A\r\nBcc: victim@evil.example", "A\nB", "A\rB", "Ünï\r\nX: 1"])
def test_the_composer_refuses_cr_or_lf_in_any_header_value(bad: str) -> None:
    with pytest.raises(UnsafeHeader, match="CR or LF"):
        compose(replace(RENDERED, subject=bad), SETTINGS, issue_id=9, date=NOW)
    with pytest.raises(UnsafeHeader):
        compose(replace(RENDERED, ai_header=bad), SETTINGS, issue_id=9, date=NOW)
    for settings_ in (
        with_newsletter(name=bad),
        with_newsletter(sender=f"{bad} <briefing@example.org>"),
        with_newsletter(reply_to=f"{bad} <editors@example.org>"),
        with_newsletter(base_url=f"https://news.example.org/{bad}"),
    ):
        with pytest.raises(UnsafeHeader):
            compose(RENDERED, settings_, issue_id=9, date=NOW)
    message = compose(RENDERED, SETTINGS, issue_id=9, date=NOW)
    with pytest.raises(UnsafeHeader, match="CR or LF"):
        message.for_recipient(person(bad), "1")
    with pytest.raises(UnsafeHeader):
        message.for_recipient(person("Ann", f"ann{bad}@example.org"), "1")
    with pytest.raises(UnsafeHeader):
        message.for_recipient(replace(person("Ann"), unsubscribe_url=f"https://x/u/{bad}"), "1")
    with pytest.raises(UnsafeHeader):
        build_message(RENDERED, SETTINGS, issue_id=9, to=person(bad), subscriber_key="1", date=NOW)
    with pytest.raises(UnsafeHeader):
        notice(SETTINGS, "ed@example.org", f"Proof {bad}", "text")


def test_a_long_ascii_subject_is_folded_not_written_past_998_octets() -> None:
    subject = "word " * 150 + "x" * 1200
    data = compose(replace(RENDERED, subject=subject), SETTINGS, issue_id=9, date=NOW)
    raw = data.for_recipient(person("Ann"), "1")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert " ".join(str(parsed["Subject"]).split()) == " ".join(subject.split())


def test_the_preview_builder_writes_utf8_headers_for_an_international_address() -> None:
    msg = build_message(
        RENDERED,
        SETTINGS,
        issue_id=9,
        to=person("Zoë", "zoë@bücher.example"),
        subscriber_key="1",
        date=NOW,
    )
    data = as_bytes(msg)
    to_line = next(x for x in data.split(b"\r\n") if x.startswith(b"To: "))
    assert to_line == "To: Zoë <zoë@xn--bcher-kva.example>".encode()


@pytest.mark.parametrize("local", ["reader", "用" * 64])
def test_the_longest_name_beside_the_longest_address_stays_within_998(local: str) -> None:
    # what the public form accepts: a 200-character name of four-octet letters (800 octets
    # as UTF-8), and a local part of 64 three-octet letters (email-validator's limit counts
    # characters): written as they are, the To line would be 1,024 octets. The preview's
    # builder (the email package, which folds as it likes) must take such a name too
    from briefing.email_address import normalize_email

    name = name_text("𝕏" * 300)
    address = normalize_email(f"{local}@例子.广告")
    assert name is not None and len(name.encode()) == 800
    message = compose(RENDERED, SETTINGS, issue_id=9, date=NOW)
    spliced = message.for_recipient(person(name, address), "1")
    built = as_bytes(
        build_message(
            RENDERED, SETTINGS, issue_id=9, to=person(name, address), subscriber_key="1", date=NOW
        )
    )
    longest = max(len(line) for line in spliced.split(b"\r\n"))
    assert longest <= 998, longest  # what goes on the wire
    for data in (spliced, built):
        parsed = email.message_from_string(data.decode("utf-8"), policy=policy.default)
        (to,) = parsed["To"].addresses
        assert to.addr_spec == wire(address)
        assert "".join(to.display_name.split()) == name


# --- the property ------------------------------------------------------------------------------

# plenty of the characters that break headers, among arbitrary Unicode
NASTY = st.sampled_from(list('\r\n\t\x00\x0b\x0c\x1c\x7f\x85\u2028\u2029 "\\<>,;:@=?()é用'))
TEXT = st.one_of(
    st.text(max_size=60),
    st.text(NASTY, max_size=40),
    st.lists(st.one_of(st.text(max_size=8), NASTY), max_size=30).map("".join),
    st.text(st.characters(codec="ascii"), min_size=900, max_size=1400),
    st.text(min_size=180, max_size=400),
)


def _has_line_break(*values: str) -> bool:
    return any("\r" in v or "\n" in v for v in values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(st.none(), TEXT),
    subject=TEXT,
    preheader=TEXT,
    address=st.sampled_from(ADDRESSES),
)
def test_any_name_subject_and_preheader_give_exactly_the_intended_headers(
    name: str | None, subject: str, preheader: str, address: str
) -> None:
    # the page is rendered from cleaned text (every entry point cleans it); the subject and
    # the name then reach the composer raw: whatever cleaned them, the composer must hold
    rendered: RenderedIssue = render_issue(
        view(header_text(subject, 250) or "s", header_text(preheader, 300)), SETTINGS, now=NOW
    )
    rendered = replace(rendered, subject=subject)
    if _has_line_break(subject):
        with pytest.raises(UnsafeHeader):
            compose(rendered, SETTINGS, issue_id=9, date=NOW)
        return
    message = compose(rendered, SETTINGS, issue_id=9, date=NOW)
    if name is not None and _has_line_break(name):
        with pytest.raises(UnsafeHeader):
            message.for_recipient(person(name, address), "1")
        return
    data = message.for_recipient(person(name, address), "1")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert not re.search(rb"(?<!\r)\n", data) and not re.search(rb"\r(?!\n)", data)
    parsed = email.message_from_string(data.decode("utf-8"), policy=policy.default)
    names = Counter(parsed.keys())
    names.pop("X-Briefing-AI-Content", None)
    assert names == BASE_HEADERS, names
    assert [a.addr_spec for a in parsed["To"].addresses] == [wire(address)]
    if name and name.strip():
        got = parsed["To"].addresses[0].display_name
        if len(name.encode()) <= 600:  # one encoded word, or as it is: exactly the name
            assert " ".join(got.split()) == " ".join(name.split()), (got, name)
        else:  # several words: Python's parser puts a space between them (RFC 2047 does not)
            assert "".join(got.split()) == "".join(name.split()), (got, name)
    assert " ".join(str(parsed["Subject"]).split()) == " ".join(subject.split())
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


@settings(max_examples=200, deadline=None)
@given(value=st.text())
def test_cleaned_text_is_one_short_line_without_control_characters(value: str) -> None:
    for cleaned, limit in ((header_text(value, 250), 250), (name_text(value) or "", 200)):
        assert len(cleaned) <= limit
        assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", cleaned)
        assert cleaned == cleaned.strip() and "  " not in cleaned
    assert header_text(header_text(value, 250), 250) == header_text(value, 250)  # idempotent


@pytest.mark.parametrize(
    "name", ["Plain Weekly", 'A <b>, "c"', 'Café <Briefing>, "Weekly"', "Tokyo: 東京 (週刊)"]
)
def test_list_id_carries_any_newsletter_name_as_one_phrase(name: str) -> None:
    """RFC 2919: `phrase <id>`. A name with specials is quoted, a non-ASCII one encoded
    whole, so the only bracketed part a reader finds is the list's id."""
    settings_ = with_newsletter(name=name)
    slug_domain = f"{list_slug(settings_)}.{sender_domain(settings_)}"
    raws = [
        compose(RENDERED, settings_, issue_id=9, date=NOW).for_recipient(person("Ann"), "1"),
        as_bytes(
            build_message(
                RENDERED, settings_, issue_id=9, to=person("Ann"), subscriber_key="1", date=NOW
            )
        ),
    ]
    for raw in raws:
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        value = re.search(r"^List-Id: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.M)
        assert value is not None, head
        unfolded = re.sub(r"\r\n[ \t]", " ", value.group(1))
        match = re.fullmatch(r"(.*) <([^<>\"]+)>", unfolded)
        assert match is not None and match.group(2) == slug_domain, unfolded
        phrase = match.group(1)
        if phrase.startswith('"'):
            assert phrase.endswith('"') and email.utils.unquote(phrase) == name
        elif "=?" in phrase:
            decoded = str(email.header.make_header(email.header.decode_header(phrase)))
            assert decoded == name and "<" not in phrase and '"' not in phrase
        else:
            assert phrase == name and not re.search(r'[()<>\[\]:;@\\,."]', phrase)
