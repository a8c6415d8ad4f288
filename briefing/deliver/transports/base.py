"""What every transport is, and the errors a transport raises.

A transport takes one message at a time: ``prepare`` (everything but the commitment),
then ``complete`` (the server's or the folder's acceptance), or ``abandon``; ``send`` is
both at once. The send engine only sees this Protocol (transports.smtp, .folder and
.memory implement it)."""

from __future__ import annotations

from typing import Protocol

from briefing.errors import BriefingError


class DeliveryError(BriefingError):
    default_hint = "check delivery.url in the config (or --transport) and that the server is up"


class RecipientRefused(DeliveryError):
    """The server refused one recipient: ``code`` says whether for now (4xx) or for good (5xx)."""

    def __init__(self, recipient: str, code: int, reason: str) -> None:
        super().__init__(f"{recipient}: refused with {code} {reason}")
        self.recipient, self.code, self.reason = recipient, code, reason

    @property
    def permanent(self) -> bool:
        return self.code >= 500


class ConnectionLost(DeliveryError):
    """The connection dropped: the message's fate is unknown if it happened after DATA."""


class Undeliverable(DeliveryError):
    """This one message cannot go over this transport, whatever we retry (the server does
    not offer SMTPUTF8, the address cannot be written on the wire): it fails alone, and it
    says nothing about the server or the address being bad."""

    def __init__(self, recipient: str, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{recipient}: {reason}", hint)
        self.recipient, self.reason = recipient, reason


class Transport(Protocol):
    url: str

    def send(self, sender: str, recipient: str, message: bytes) -> None: ...

    def check(self) -> None: ...

    def prepare(self, sender: str, recipient: str, message: bytes) -> None: ...

    def complete(self, recipient: str, then: tuple[str, str] | None = None) -> None: ...

    def abandon(self) -> None: ...

    def close(self) -> None: ...
