"""A transport that keeps messages in memory: for tests of the send engine without SMTP.

It has no URL scheme (nothing in a config can name it): a test hands one to the engine.
``refuse`` maps a recipient to the (code, reason) the "server" answers for it, and
``fail_after`` makes the transport itself fail (as a folder that cannot be written) once
that many messages were accepted.

Memory is per process: use it with workers that are threads (one worker, or the
engine given a Stop); a forked worker's messages stay in the child.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from briefing.deliver.transports.base import DeliveryError, RecipientRefused


@dataclass(frozen=True)
class Delivered:
    sender: str
    recipient: str
    message: bytes


@dataclass
class MemoryTransport:
    """Messages accepted so far are in ``delivered`` (shared by every connection opened
    from the same instance: ``connect`` gives one per worker)."""

    url: str = "memory:"
    delivered: list[Delivered] = field(default_factory=list)
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    fail_after: int | None = None
    connections: list[MemoryTransport] = field(default_factory=list)  # opened by connect()
    closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _prepared: tuple[str, str, bytes] | None = field(default=None, repr=False)

    def connect(self) -> MemoryTransport:
        """Another connection that records into the same lists."""
        other = MemoryTransport(
            self.url, self.delivered, self.refuse, self.fail_after, self.connections
        )
        other._lock = self._lock
        with self._lock:
            self.connections.append(other)
        return other

    def check(self) -> None:
        pass

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.prepare(sender, recipient, message)
        self.complete(recipient)

    def prepare(self, sender: str, recipient: str, message: bytes) -> None:
        refused = self.refuse.get(recipient)
        if refused is not None:
            raise RecipientRefused(recipient, *refused)
        self._prepared = (sender, recipient, message)

    def complete(self, recipient: str, then: tuple[str, str] | None = None) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is None:
            return
        with self._lock:
            if self.fail_after is not None and len(self.delivered) >= self.fail_after:
                raise DeliveryError("the memory transport is full")
            self.delivered.append(Delivered(*prepared))

    def abandon(self) -> None:
        self._prepared = None

    def close(self) -> None:
        self._prepared = None
        self.closed = True
