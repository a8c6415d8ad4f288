"""Building the email for one subscriber: multipart/alternative (text first, HTML last),
UTF-8, quoted-printable, with the list headers bulk senders need (RFC 2369, 2919, 8058,
3834) and our AI-content header.

Python's email package folds a long List-Unsubscribe into an RFC 2047 encoded word,
which breaks one-click unsubscribe; the message is therefore serialized with a policy
whose line limit is 998 octets, and the header is kept as plain ASCII.

Addresses go into headers in their wire form (``headertext.wire_address``: an IDN domain
in punycode). An address whose local part is not ASCII makes the message an RFC 6532 one:
its headers are UTF-8 (``policy_for``), never an encoded word inside an address, and it
travels only with SMTPUTF8. Every builder here refuses a header value with CR or LF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.charset import Charset
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr, quote

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.errors import UnsafeHeader
from briefing.headertext import refuse_line_breaks, wire_address
from briefing.render.compile import RenderedIssue

POLICY = SMTP.clone(max_line_length=998)
UTF8_POLICY = POLICY.clone(utf8=True)  # RFC 6532 headers, for non-ASCII local parts
CRLF = "\r\n"
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_ESCAPES = re.compile(r'[\\"]')
_UTF8 = Charset("utf-8")


def policy_for(*header_values: str) -> EmailPolicy[EmailMessage]:
    """The policy that serializes a message with these header values: UTF-8 headers when
    one of them is not ASCII (an address with a non-ASCII local part)."""
    return POLICY if all(v.isascii() for v in header_values) else UTF8_POLICY


def mailbox(name: str | None, address: str) -> str:
    """An address header's value, ready for the wire: ``Name <addr>`` with the name quoted
    or RFC 2047-encoded as it needs, the address in wire form. It is UTF-8 only when the
    address's local part is (then a printable name is UTF-8 too, as RFC 6532 allows).
    UnsafeHeader when the name or the address holds CR or LF."""
    addr = wire_address(address)
    if not name:
        return addr
    refuse_line_breaks("a display name", name)
    # as it is when it can be: printable, short, and not like an encoded word ("=?...")
    # that a reader would decode into something else
    plain = name.isprintable() and len(name) <= 200 and "=?" not in name
    if plain and (name.isascii() or not addr.isascii()):
        shown = '"' + _ESCAPES.sub(r"\\\g<0>", name) + '"' if _SPECIALS.search(name) else name
        value = f"{shown} <{addr}>"
        # a header line cannot be folded inside a name or an address: a long UTF-8 name
        # beside a long non-ASCII address (800 + 200 octets) is encoded, and folded, instead
        if len(value.encode()) <= 900:
            return value
    # one encoded word, as formataddr writes it: Python's own parser (and tools built on
    # it) puts a space between several words of a display name; only a name too long for
    # one line is split into words of RFC 2047's length
    single = _UTF8.header_encode(name)
    return f"{single if len(single) <= 900 else encoded_words(name)} <{addr}>"


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 encoded words of at most 75 characters, folded onto lines of
    their own: any character survives, and no line comes near 998 octets. (Python's
    Header folds a long ASCII text as plain words, which adds spaces where it breaks.)"""
    if len(text) <= 20:  # the common case: one word
        return _UTF8.header_encode(text)
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode("utf-8", "surrogatepass"))
        if size + width > 45:  # 45 octets: 60 in base64, 72 with the word's frame
            words.append(_UTF8.header_encode("".join(chunk)))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk:
        words.append(_UTF8.header_encode("".join(chunk)))
    return (CRLF + " ").join(words)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    unsubscribe_url: str
    preferences_url: str
    token: str  # opaque: used in the mailto unsubscribe subject


# who a preview is addressed to when it must not use a real subscriber's links
SAMPLE = Recipient(
    email="reader@example.org",
    name="Sample Reader",
    unsubscribe_url="",
    preferences_url="",
    token="SAMPLE",
)


def sender_domain(settings: Settings) -> str:
    """The sender's domain as it goes on the wire (punycode for an IDN)."""
    address = parseaddr(settings.newsletter.sender)[1]
    return wire_address(address).rsplit("@", 1)[-1] if "@" in address else "localhost"


def sender_mailbox(settings: Settings, value: str | None = None) -> str:
    """newsletter.sender (or another configured "Name <addr>") as an address header's value."""
    value = refuse_line_breaks("the sender", value or settings.newsletter.sender)
    name, address = parseaddr(value)
    if "@" not in address:
        raise UnsafeHeader(f"{value!r} is not an address", "check newsletter.sender and reply_to")
    return mailbox(name, address)


def notice(settings: Settings, to: str, subject: str, text: str) -> tuple[str, bytes]:
    """A short plain-text email from the newsletter (a confirmation, a notice to the
    editors): the envelope recipient and the bytes. Header values are checked, and an
    address with a non-ASCII local part gets UTF-8 headers."""
    sender = sender_mailbox(settings)
    recipient = mailbox(None, to)
    refuse_line_breaks("the subject", subject)
    msg = EmailMessage(policy=policy_for(sender, recipient))
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=sender_domain(settings))
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    return recipient, msg.as_bytes()


def list_slug(settings: Settings) -> str:
    return re.sub(r"[^a-z0-9]+", "-", settings.newsletter.name.lower()).strip("-") or "briefing"


_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def list_id(settings: Settings) -> str:
    """List-Id (RFC 2919): the newsletter's name as one phrase, then ``<slug.domain>``. A
    name with specials (``<>,"`` ...) is a quoted string, a non-ASCII or very long one is
    encoded words, so the list's id is the only bracketed part a reader finds."""
    name = refuse_line_breaks("newsletter.name", settings.newsletter.name)
    if not (name.isascii() and name.isprintable()) or len(name) > 200 or "=?" in name:
        phrase = encoded_words(name)
    elif _SPECIALS.search(name):
        phrase = '"' + quote(name) + '"'
    else:
        phrase = name
    return f"{phrase} <{list_slug(settings)}.{sender_domain(settings)}>"


def message_id(domain: str, issue_id: int, subscriber_key: str) -> str:
    """Unique per recipient and the same on every retry of that recipient."""
    return f"<briefing.{issue_id}.{subscriber_key}@{domain}>"


def unsubscribe_mailto(domain: str, token: str) -> str:
    return f"mailto:unsubscribe@{domain}?subject=unsubscribe%20{token}"


def build_message(
    rendered: RenderedIssue,
    settings: Settings,
    *,
    issue_id: int,
    to: Recipient,
    subscriber_key: str,
    date: datetime,
) -> EmailMessage:
    html_body, text_body = rendered.personalize(
        {
            "unsubscribe": to.unsubscribe_url,
            "preferences": to.preferences_url,
            "name": to.name or "",
        }
    )
    sender = sender_mailbox(settings)
    # a long name comes back as encoded words folded onto lines of their own; the email
    # package folds a header itself and refuses a value with line breaks: unfold it
    recipient = mailbox(to.name, to.email).replace(CRLF + " ", " ")
    msg = EmailMessage(policy=policy_for(sender, recipient))
    msg["From"] = sender
    msg["To"] = recipient
    if settings.newsletter.reply_to:
        msg["Reply-To"] = sender_mailbox(settings, settings.newsletter.reply_to)
    msg["Subject"] = refuse_line_breaks("the subject", rendered.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(sender_domain(settings), issue_id, subscriber_key)
    msg.set_raw("List-Id", list_id(settings))  # as built: the policy would re-encode it in part
    msg["List-Unsubscribe"] = (
        f"<{to.unsubscribe_url}>, <{unsubscribe_mailto(sender_domain(settings), to.token)}>"
    )
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Feedback-ID"] = f"{issue_id}:{list_slug(settings)}:briefing:{sender_domain(settings)}"
    msg["Auto-Submitted"] = "auto-generated"
    if rendered.ai_header:
        msg["X-Briefing-AI-Content"] = rendered.ai_header
    msg.set_content(text_body, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def as_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes()  # with the message's own policy (UTF-8 headers when it needs them)
