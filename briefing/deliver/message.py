"""Building the email for one subscriber: multipart/alternative (text first, HTML last),
UTF-8, quoted-printable, with the list headers bulk senders need (RFC 2369, 2919, 8058,
3834) and our AI-content header.

Python's email package folds a long List-Unsubscribe into an RFC 2047 encoded word,
which breaks one-click unsubscribe; the message is therefore serialized with a policy
whose line limit is 998 octets, and the header is kept as plain ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr

from briefing.config import Settings
from briefing.render.compile import RenderedIssue

POLICY = SMTP.clone(max_line_length=998)


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
    address = parseaddr(settings.newsletter.sender)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"


def list_slug(settings: Settings) -> str:
    return re.sub(r"[^a-z0-9]+", "-", settings.newsletter.name.lower()).strip("-") or "briefing"


def list_id(settings: Settings) -> str:
    return f"{settings.newsletter.name} <{list_slug(settings)}.{sender_domain(settings)}>"


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
    msg = EmailMessage(policy=POLICY)
    msg["From"] = settings.newsletter.sender
    msg["To"] = formataddr((to.name or "", to.email))
    if settings.newsletter.reply_to:
        msg["Reply-To"] = settings.newsletter.reply_to
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(sender_domain(settings), issue_id, subscriber_key)
    msg["List-Id"] = list_id(settings)
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
    return msg.as_bytes(policy=POLICY)
