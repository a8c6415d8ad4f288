"""Recording a send's progress, per recipient, through an Outbox.

The engine never touches the database itself: it is handed an ``Outbox`` (the Protocol
below; store.outbox_queue.DatabaseOutbox is the one a real send uses) and records every
fact of a send as a typed request (``Step``, ``Claim``, ``Refuse``, ...) applied to it.

A Ledger is a worker's view of the outbox: ``LocalLedger`` applies requests under a lock
(the threads of one process, one at a time, so the process never competes with itself
for SQLite's write lock); ``RemoteLedger`` sends them down a pipe to the parent process,
which applies the requests of all its workers together in one transaction (group
commit, ``serve``). A request crosses the pipe pickled, and so does its answer. On
PostgreSQL a worker process records on its own connections instead, through a
``BackgroundLedger`` (a thread of its own applies the requests while the worker sends).

Why one module of 400-odd lines: the protocol, the requests and the two ledgers are one
contract; a request added in one place must be applied in the others, and reading them
side by side is how that stays true.
"""

from __future__ import annotations

import queue
import struct
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.reduction import ForkingPickler
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from briefing.clock import utcnow
from briefing.deliver.options import Stop

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# (the row recorded as sent, the row to mark sending, the lease owner); either row may be None
StepArgs = tuple[int | None, int | None, str]


class Claimed(Protocol):
    """A row of the outbox claimed by a worker: one recipient of the issue."""

    @property
    def id(self) -> int: ...
    @property
    def subscriber_id(self) -> int: ...
    @property
    def email(self) -> str | None: ...  # None: forgotten after the row was queued
    @property
    def name(self) -> str | None: ...
    @property
    def token_id(self) -> str: ...
    @property
    def attempts(self) -> int: ...


class Outbox(Protocol):
    """What the send engine needs of the outbox of an issue. Times are given by the
    caller. Writes outside ``transaction()`` commit on their own."""

    def recover(self, issue_id: int, now: datetime, *, resend: bool) -> list[str]:
        """Take back rows whose lease ran out (a crash); return the addresses of those
        caught mid-send (requeued with ``resend``, else failed)."""
        ...

    def counts(self, issue_id: int) -> dict[str, int]:
        """Rows per state: queued, sending, sent, deferred, failed, skipped."""
        ...

    def claim(
        self,
        issue_id: int,
        owner: str,
        now: datetime,
        *,
        lease: timedelta,
        limit: int,
        after: int | None = None,
    ) -> Sequence[Claimed]:
        """The next due recipients (up to ``limit``), leased to ``owner``; ``after``: the
        last row id ``owner`` claimed (those past it are looked for first, then any)."""
        ...

    def renew(self, issue_id: int, owner: str, now: datetime, lease: timedelta) -> None: ...

    def release(self, owner: str, row_ids: Sequence[int], now: datetime) -> None:
        """Give back claimed rows ``owner`` will not get to."""
        ...

    def steps(self, steps: Sequence[StepArgs], now: datetime) -> list[bool]:
        """For each step: record ``sent`` as sent, mark ``start`` sending if its subscriber
        still receives the issue (else skipped); answer whether ``start`` may be sent. The
        per-message hot path: all steps in one transaction."""
        ...

    def requeue(self, row_id: int, now: datetime, *, error: str) -> None: ...

    def fail(self, row_id: int, now: datetime, *, error: str, code: int | None = None) -> None: ...

    def defer(
        self, row_id: int, now: datetime, *, code: int, error: str, retry_at: datetime
    ) -> None: ...

    def mark_bounced(
        self, subscriber_id: int, now: datetime, *, issue_id: int, code: int, reason: str
    ) -> None:
        """A hard bounce: the address gets no more issues."""
        ...

    def sent_since(self, since: datetime) -> int:
        """Messages sent (any issue) since ``since``: the hourly limit."""
        ...

    def senders(self, now: datetime) -> int:
        """How many senders hold rows now, on every process and machine sharing the
        outbox: ``delivery.rate`` is split between them."""
        ...

    def next_retry(self, issue_id: int) -> datetime | None:
        """When the next held row (deferred, or queued for a local send time) is due."""
        ...

    def paused(self, issue_id: int) -> str | None:
        """Why the issue's send run is paused, whoever recorded it (an operator, another
        sender on any machine), or None: a run in progress stops when it is."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Every write inside commits together, or none does."""
        ...

    @property
    def parallel_writes(self) -> bool:
        """Whether worker processes may each write through their own (forked) copy of
        the outbox without waiting for one another: PostgreSQL's row locks, not SQLite's
        one writer at a time (whose workers' writes their parent records, together)."""
        ...

    def close(self) -> None:
        """Close the connection held for writes (at the end of a run); the outbox
        reconnects when used again."""
        ...

    def detach(self) -> None:
        """Close every database connection, pooled ones too (before a fork); the outbox
        reconnects when used again."""
        ...


class Request(Generic[T_co]):
    """One operation on the outbox, as a value (so it can cross a pipe). ``hot``: the
    per-message step, which commits on its own (outside a SQLAlchemy transaction)."""

    hot: ClassVar[bool] = False

    def apply(self, outbox: Outbox, now: datetime) -> T_co:
        raise NotImplementedError


@dataclass(frozen=True)
class Step(Request[bool]):
    """The previous message sent and the next one starting, in one go."""

    hot: ClassVar[bool] = True
    sent: int | None
    start: int | None
    owner: str

    def apply(self, outbox: Outbox, now: datetime) -> bool:
        return outbox.steps([(self.sent, self.start, self.owner)], now)[0]


@dataclass(frozen=True)
class Claim(Request[list[Claimed]]):
    issue_id: int
    owner: str
    lease_seconds: float
    limit: int
    after: int | None = None  # the last row id this sender claimed

    def apply(self, outbox: Outbox, now: datetime) -> list[Claimed]:
        lease = timedelta(seconds=self.lease_seconds)
        return list(
            outbox.claim(
                self.issue_id, self.owner, now, lease=lease, limit=self.limit, after=self.after
            )
        )


@dataclass(frozen=True)
class Renew(Request[None]):
    issue_id: int
    owner: str
    lease_seconds: float

    def apply(self, outbox: Outbox, now: datetime) -> None:
        outbox.renew(self.issue_id, self.owner, now, timedelta(seconds=self.lease_seconds))


@dataclass(frozen=True)
class Release(Request[None]):
    owner: str
    row_ids: tuple[int, ...]

    def apply(self, outbox: Outbox, now: datetime) -> None:
        outbox.release(self.owner, self.row_ids, now)


@dataclass(frozen=True)
class Requeue(Request[None]):
    """Not accepted (a lost connection, a transport fault): again, on a new connection."""

    row_id: int
    error: str

    def apply(self, outbox: Outbox, now: datetime) -> None:
        outbox.requeue(self.row_id, now, error=self.error)


@dataclass(frozen=True)
class Fail(Request[None]):
    """This one message cannot be sent: not a refusal, not a bounce."""

    row_id: int
    error: str

    def apply(self, outbox: Outbox, now: datetime) -> None:
        outbox.fail(self.row_id, now, error=self.error)


@dataclass(frozen=True)
class Refuse(Request[None]):
    """The server refused the recipient: for good (``delay`` None; ``hard``: a bounce
    that suppresses the address) or for now (retried after ``delay`` seconds)."""

    issue_id: int
    row_id: int
    subscriber_id: int
    code: int
    reason: str
    hard: bool
    delay: float | None

    def apply(self, outbox: Outbox, now: datetime) -> None:
        if self.delay is None:
            outbox.fail(self.row_id, now, code=self.code, error=self.reason)
            if self.hard:  # the status suppresses the address; its hash is kept when forgotten
                outbox.mark_bounced(
                    self.subscriber_id,
                    now,
                    issue_id=self.issue_id,
                    code=self.code,
                    reason=self.reason[:200],
                )
        else:
            retry_at = now + timedelta(seconds=self.delay)
            outbox.defer(self.row_id, now, code=self.code, error=self.reason, retry_at=retry_at)


@dataclass(frozen=True)
class SentSince(Request[int]):
    seconds: float

    def apply(self, outbox: Outbox, now: datetime) -> int:
        return outbox.sent_since(now - timedelta(seconds=self.seconds))


@dataclass(frozen=True)
class Senders(Request[int]):
    def apply(self, outbox: Outbox, now: datetime) -> int:
        return outbox.senders(now)


@dataclass(frozen=True)
class NextRetry(Request["datetime | None"]):
    issue_id: int

    def apply(self, outbox: Outbox, now: datetime) -> datetime | None:
        return outbox.next_retry(self.issue_id)


@dataclass(frozen=True)
class StopRun(Request[None]):
    """A worker process stops the whole run (an error-rate pause): for the parent's Stop,
    not for the outbox."""

    reason: str


@dataclass(frozen=True)
class Reply:
    """The parent's answer to one request: its value, or why it failed."""

    ok: bool
    value: Any = None
    error: str = ""


class Pending(Protocol[T_co]):
    def answer(self) -> T_co: ...


@dataclass(frozen=True)
class Answered(Generic[T]):
    value: T

    def answer(self) -> T:
        return self.value


class Ledger(Protocol):
    """A worker's view of the outbox."""

    def do(self, request: Request[T]) -> T: ...

    def start(self, request: Step) -> Pending[bool]:
        """Send a step without waiting for its answer (recorded while the message travels)."""
        ...

    def close(self) -> None: ...


class LedgerFailed(Exception):
    """The parent process could not record an operation (or is gone)."""


def _apply(request: Request[T], outbox: Outbox) -> T:
    """Apply one request here: the per-message step commits alone; every other request
    in a transaction of its own."""
    if request.hot:
        return request.apply(outbox, utcnow())
    with outbox.transaction():
        return request.apply(outbox, utcnow())


class LocalLedger:
    """The threads of one process record one at a time, under a lock. The per-message
    step commits alone; every other request in a transaction of its own."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.lock = threading.Lock()

    def do(self, request: Request[T]) -> T:
        with self.lock:
            return _apply(request, self.outbox)

    def start(self, request: Step) -> Pending[bool]:
        return Answered(self.do(request))  # at once: a local ledger has nothing to overlap

    def close(self) -> None:
        with self.lock:
            self.outbox.close()


class _Slot(Generic[T]):
    """The answer to one request a BackgroundLedger's thread applies."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def answer(self) -> T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        value: T = self.value
        return value


class BackgroundLedger:
    """A worker process's ledger on database connections of its own (PostgreSQL): one
    thread of the process applies its requests, in order, so a message's step is
    recorded while the message is spliced and handed to the server (the overlap the
    parent gives a RemoteLedger), and the worker waits only for what is left of it.
    As with a RemoteLedger, a started step's answer is read before the next request."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._requests: queue.SimpleQueue[tuple[Request[Any], _Slot[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="briefing-ledger", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._requests.get()) is not None:
            request, slot = item
            try:
                slot.value = _apply(request, self.outbox)
            except BaseException as exc:  # handed to the worker, which waits for it
                slot.error = exc
            slot.done.set()

    def _submit(self, request: Request[T]) -> _Slot[T]:
        slot: _Slot[T] = _Slot()
        self._requests.put((request, slot))
        return slot

    def do(self, request: Request[T]) -> T:
        return self._submit(request).answer()

    def start(self, request: Step) -> Pending[bool]:
        return self._submit(request)

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join()
        self.outbox.close()


class _PipeAnswer:
    def __init__(self, ledger: RemoteLedger) -> None:
        self._ledger = ledger
        self._value: bool | None = None

    def answer(self) -> bool:
        if self._value is None:
            self._value = bool(self._ledger.receive())
        return self._value


# On the pipe. A step, the one request of every message, is 17 bytes and its owner, and
# its answer one byte: pickling them (a dataclass each way) cost the parent, which
# answers every worker in turn, more than SQLite's statements for them. Anything else
# is pickled (a pickle begins with its protocol's opcode, 0x80, never with "S").
_STEP = struct.Struct("<cqq")
_TRUE, _FALSE = Reply(True, True), Reply(True, False)


def encode(request: Request[Any]) -> bytes:
    if type(request) is Step:
        sent = -1 if request.sent is None else request.sent
        start = -1 if request.start is None else request.start
        return _STEP.pack(b"S", sent, start) + request.owner.encode()
    return bytes(ForkingPickler.dumps(request))


def decode(data: bytes) -> Request[Any]:
    if data[:1] == b"S":
        _, sent, start = _STEP.unpack_from(data)
        return Step(
            None if sent < 0 else sent,
            None if start < 0 else start,
            data[_STEP.size :].decode(),
        )
    request: Request[Any] = ForkingPickler.loads(data)
    return request


def encode_reply(reply: Reply) -> bytes:
    if reply.ok and type(reply.value) is bool:
        return b"\x01" if reply.value else b"\x00"
    return bytes(ForkingPickler.dumps(reply))


def decode_reply(data: bytes) -> Reply:
    if len(data) == 1:  # a pickle is never one byte long
        return _TRUE if data == b"\x01" else _FALSE
    reply: Reply = ForkingPickler.loads(data)
    return reply


class RemoteLedger:
    """A worker process's ledger: each request goes to the parent, which records the
    requests of all workers in one transaction (group commit) and answers each, in order."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe

    def do(self, request: Request[T]) -> T:
        self._send(request)
        value: T = self.receive()
        return value

    def start(self, request: Step) -> Pending[bool]:
        """Send a step without waiting: the parent records it while the message travels.
        Its answer must be read before the next request is sent."""
        self._send(request)
        return _PipeAnswer(self)

    def _send(self, request: Request[Any]) -> None:
        try:
            self.pipe.send_bytes(encode(request))
        except (EOFError, OSError) as exc:
            raise LedgerFailed("the parent process is gone") from exc

    def receive(self) -> Any:
        try:
            reply = decode_reply(self.pipe.recv_bytes())
        except (EOFError, OSError) as exc:
            raise LedgerFailed("the parent process is gone") from exc
        if not reply.ok:
            raise LedgerFailed(reply.error)
        return reply.value

    def close(self) -> None:
        self.pipe.close()


def serve(outbox: Outbox, pipes: list[Any], stop: Stop, on_tick: Callable[[], None]) -> None:
    """The parent's side: answer the workers' requests, recording all that arrived
    together in one transaction (group commit), until every worker has hung up."""
    from multiprocessing.connection import wait

    open_pipes = list(pipes)
    last_tick = time.monotonic()
    while open_pipes:
        try:
            ready = wait(open_pipes, timeout=0.2)
        except KeyboardInterrupt:
            stop.set("stopped by Ctrl-C")
            continue
        batch: list[tuple[Any, Request[Any]]] = []
        for ready_pipe in ready:
            pipe: Any = ready_pipe
            try:
                request = decode(pipe.recv_bytes())
            except (EOFError, OSError):
                open_pipes.remove(pipe)
                continue
            if isinstance(request, StopRun):
                stop.set(request.reason)
                pipe.send_bytes(encode_reply(Reply(True)))
            else:
                batch.append((pipe, request))
        if batch:
            for pipe, reply in record_batch(outbox, batch):
                pipe.send_bytes(encode_reply(reply))
        if time.monotonic() - last_tick >= 1.0:
            on_tick()
            last_tick = time.monotonic()


def record_batch(outbox: Outbox, batch: Sequence[tuple[T, Request[Any]]]) -> list[tuple[T, Reply]]:
    """Apply requests together; if that fails, one at a time, so one failure fails only
    itself. Returns each request's reply, in order."""
    now = utcnow()
    try:
        if all(isinstance(request, Step) for _, request in batch):
            # the per-message case: one hot-path commit for every worker's step
            steps: list[StepArgs] = []
            for _, request in batch:
                assert isinstance(request, Step)
                steps.append((request.sent, request.start, request.owner))
            results: list[Any] = outbox.steps(steps, now)
        else:
            with outbox.transaction():
                results = [request.apply(outbox, now) for _, request in batch]
        return [(to, Reply(True, result)) for (to, _), result in zip(batch, results, strict=True)]
    except Exception:
        replies: list[tuple[T, Reply]] = []
        for to, request in batch:
            try:
                with outbox.transaction():
                    replies.append((to, Reply(True, request.apply(outbox, now))))
            except Exception as exc:
                name = type(request).__name__
                replies.append((to, Reply(False, error=f"{name}: {type(exc).__name__}: {exc}")))
        return replies
