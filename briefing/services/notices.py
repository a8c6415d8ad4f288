"""Short plain-text emails from the newsletter: the notices to the editors (a send on
hold, an issue expired) and a subscriber's confirmation request. The one place that
builds and sends them (the bytes come from deliver.message.notice)."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr

from briefing.config import Settings
from briefing.deliver.message import notice
from briefing.deliver.transports import open_transport


def build(settings: Settings, to: str, subject: str, text: str) -> tuple[str, bytes]:
    """The envelope recipient and the bytes of one notice to ``to``."""
    return notice(settings, to, subject, text)


def send(
    settings: Settings,
    to: Sequence[str],
    subject: str,
    text: str,
    *,
    transport: str | None = None,
) -> list[str]:
    """The notice to each of ``to``, over one connection (``transport``: a delivery URL,
    default delivery.url); returns who it went to. Every message is built (its headers
    checked) before the connection is opened."""
    recipients = list(to)
    if not recipients:
        return []
    messages = [build(settings, address, subject, text) for address in recipients]
    sender = parseaddr(settings.newsletter.sender)[1]
    channel = open_transport(transport or settings.delivery.url, settings)
    try:
        for recipient, data in messages:
            channel.send(sender, recipient, data)
    finally:
        channel.close()
    return recipients


def editor_subject(settings: Settings, subject: str) -> str:
    return f"[{settings.newsletter.name}] {subject}"


def tell_editors(
    settings: Settings, subject: str, body: str, *, transport: str | None = None
) -> list[str]:
    """A short plain-text email to [schedule].editors; returns who it went to."""
    return send(
        settings,
        settings.schedule.editors,
        editor_subject(settings, subject),
        body,
        transport=transport,
    )
