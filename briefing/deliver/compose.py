"""The issue as bytes, built once; each subscriber's message spliced from it.

Building an EmailMessage per subscriber costs ~6 ms; splicing costs microseconds. The
serialized message is cut into constant byte runs and the few places that differ per
subscriber: the To, Message-ID and List-Unsubscribe headers, and the lines of the two
bodies that carry a link placeholder. Quoted-printable wraps lines at 76 characters and
would tear a placeholder apart, so every placeholder is first moved onto a line of its
own (in HTML, by line breaks around the attribute: whitespace between attributes is
insignificant); those short lines are encoded per subscriber, everything else once.

The result parses to the same message ``message.build_message`` gives (tested).

Defence in depth: whatever cleaned the text before, a header value with CR or LF is
refused (UnsafeHeader). The issue-wide values are checked once in ``compose``; per
recipient only the name, the address and the links, which costs a few ``in`` tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.utils import format_datetime, make_msgid

from briefing import placeholders
from briefing.config import Settings
from briefing.deliver.message import (
    Recipient,
    encoded_words,
    list_id,
    list_slug,
    mailbox,
    message_id,
    sender_domain,
    sender_mailbox,
    unsubscribe_mailto,
)
from briefing.headertext import refuse_line_breaks
from briefing.render.compile import RenderedIssue

CRLF = "\r\n"


def _qp(text: str) -> str:
    """Quoted-printable for UTF-8 text, CRLF line ends (what the email package does)."""
    return quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), 76, CRLF)


@dataclass(frozen=True)
class _Body:
    """A part's body: encoded constant chunks and raw lines with placeholders, in order."""

    pieces: tuple[tuple[bool, str], ...]  # (dynamic, text)
    escape: bool

    @classmethod
    def of(cls, text: str, *, escape: bool) -> _Body:
        lines = text.replace("\r\n", "\n").split("\n")
        pieces: list[tuple[bool, str]] = []
        run: list[str] = []
        for line in lines:
            if placeholders.contains(line):
                if run:
                    pieces.append((False, _qp("\n".join(run))))
                    run = []
                pieces.append((True, line))
            else:
                run.append(line)
        if run:
            pieces.append((False, _qp("\n".join(run))))
        return cls(tuple(pieces), escape)

    def encode(self, values: dict[str, str]) -> str:
        out = []
        for dynamic, text in self.pieces:
            if not dynamic:
                out.append(text)
                continue
            filled = placeholders.fill(text, lambda slot: _value(values[slot], self.escape))
            out.append(_qp(filled))
        return CRLF.join(out)


def _value(value: str, escape: bool) -> str:
    if not escape:
        return value
    return (
        value.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#x27;")
    )


@dataclass(frozen=True)
class IssueMessage:
    """One issue's message, ready to be spliced for each subscriber."""

    head: bytes  # headers common to every recipient
    boundary: str
    text: _Body
    html: _Body
    domain: str
    issue_id: int

    def for_recipient(self, to: Recipient, subscriber_key: str) -> bytes:
        """This recipient's message. UnsafeHeader when one of their values holds CR or LF
        (a name stored by something that did not clean it), or their address cannot go
        on the wire."""
        values = {
            "unsubscribe": to.unsubscribe_url,
            "preferences": to.preferences_url,
            "name": to.name or "",
        }
        for field, value in (
            ("the unsubscribe link", to.unsubscribe_url),
            ("the unsubscribe token", to.token),
            ("the Message-ID key", subscriber_key),
        ):
            if "\r" in value or "\n" in value:
                refuse_line_breaks(field, value)
        to_header = mailbox(to.name, to.email)
        personal = (
            f"To: {to_header}{CRLF}"
            f"Message-ID: {message_id(self.domain, self.issue_id, subscriber_key)}{CRLF}"
            f"List-Unsubscribe: <{to.unsubscribe_url}>, <{unsubscribe_mailto(self.domain, to.token)}>{CRLF}"
        )
        b = self.boundary
        body = (
            f'--{b}{CRLF}Content-Type: text/plain; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
            f"{self.text.encode(values)}{CRLF}"
            f'--{b}{CRLF}Content-Type: text/html; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
            f"{self.html.encode(values)}{CRLF}"
            f"--{b}--{CRLF}"
        )
        return personal.encode("utf-8") + self.head + body.encode("ascii")


def _header_line(name: str, value: str) -> str:
    """An unstructured header: as it is when plain short ASCII, else RFC 2047-encoded (which
    folds it to short lines and carries any character). Refuses CR and LF."""
    refuse_line_breaks(name, value)
    if value.isascii() and value.isprintable() and len(value) < 900 and "=?" not in value:
        return f"{name}: {value}{CRLF}"
    return f"{name}: {encoded_words(value)}{CRLF}"


def compose(
    rendered: RenderedIssue,
    settings: Settings,
    *,
    issue_id: int,
    date: datetime,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> IssueMessage:
    """Serialize the issue's message once, leaving the per-subscriber parts open."""
    n = settings.newsletter
    domain = sender_domain(settings)
    boundary = "=_briefing_" + make_msgid(domain="b").strip("<>").replace("@", "_").replace(
        ".", "_"
    )
    refuse_line_breaks("newsletter.base_url", n.base_url)  # in every List-Unsubscribe
    lines = [f"From: {sender_mailbox(settings)}{CRLF}"]
    if n.reply_to:
        lines.append(f"Reply-To: {sender_mailbox(settings, n.reply_to)}{CRLF}")
    lines += [
        _header_line("Subject", rendered.subject),
        f"Date: {format_datetime(date)}{CRLF}",
        f"List-Id: {list_id(settings)}{CRLF}",
        f"List-Unsubscribe-Post: List-Unsubscribe=One-Click{CRLF}",
        f"Feedback-ID: {issue_id}:{list_slug(settings)}:briefing:{domain}{CRLF}",
        f"Auto-Submitted: auto-generated{CRLF}",
    ]
    if rendered.ai_header:
        lines.append(_header_line("X-Briefing-AI-Content", rendered.ai_header))
    lines += [_header_line(k, v) for k, v in extra_headers]
    lines += [
        f"MIME-Version: 1.0{CRLF}",
        f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}',
        CRLF,
    ]
    html = "".join(
        placeholders.join(rendered.html.parts)
    )  # placeholders already on lines of their own
    text = "".join(placeholders.join(rendered.text.parts))
    # EmailMessage.set_content ends a body with a newline; so do we, for identical parts
    html = html if html.endswith("\n") else html + "\n"
    text = text if text.endswith("\n") else text + "\n"
    return IssueMessage(
        head="".join(lines).encode("utf-8"),  # UTF-8 only for a sender with a non-ASCII local part
        boundary=boundary,
        text=_Body.of(text, escape=False),
        html=_Body.of(html, escape=True),
        domain=domain,
        issue_id=issue_id,
    )
