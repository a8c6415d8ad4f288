"""What a send run is told (SendOptions), how it is stopped (Stop) and what it reports
(SendSummary)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class SendOptions:
    transport_url: str
    workers: int = 2
    rate_per_second: float | None = None
    rate_per_hour: int | None = None
    batch: int = 200  # rows per claim: each claim briefly holds up every worker's record
    lease: timedelta = timedelta(minutes=5)
    resend_ambiguous: bool = True
    max_error_rate: float = 0.5
    error_window: int = 50
    retry_delays: tuple[float, ...] = (5, 30, 120, 600, 1800)
    wait_for_retries: float = 60.0  # seconds a run waits for deferred rows before leaving them


@dataclass
class SendSummary:
    issue_id: int
    counts: dict[str, int] = field(default_factory=dict)
    ambiguous: list[str] = field(default_factory=list)
    paused: str | None = None
    finished: bool = False
    seconds: float = 0.0
    sent_this_run: int = 0  # the outbox's sent count, after less before (any sender)
    sent_here: int | None = None  # accepted by this run's own senders (threads only)
    # the pause was recorded in the outbox by someone else (an operator's `send --pause`,
    # another sender's error rate): the run honoured it; the caller does not record it again
    paused_elsewhere: bool = False

    @property
    def rate(self) -> float:
        return self.sent_this_run / self.seconds if self.seconds else 0.0


class Stop:
    """Shared by the senders of one run: a stop request (SIGTERM, Ctrl-C, error rate)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:  # the first reason wins, whoever raised the flag first
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class RunStop(Stop):
    """One run's stop flag: raised by the run itself (an error-rate pause, a pause recorded
    in the outbox) or by the caller's own Stop (SIGTERM of a scheduler, of a worker). The
    run never raises the caller's: a scheduler's next send is not stopped by this one's
    pause."""

    def __init__(self, outer: Stop | None = None) -> None:
        super().__init__()
        self.outer = outer

    def is_set(self) -> bool:
        return self._event.is_set() or (self.outer is not None and self.outer.is_set())

    @property
    def why(self) -> str | None:
        """The run's own reason, else the caller's."""
        return self.reason or (self.outer.reason if self.outer is not None else None)
