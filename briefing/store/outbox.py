"""The outbox in the database: populate, claim with a lease, record each message's fate.

Progress is recorded per recipient, after the server answered: never when a batch is
fetched. A row is ``sending`` only while its message is being handed to the server; a
crash leaves at most one such row per connection, and that row's fate is unknown.

Claiming is portable: on PostgreSQL the candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` so workers on several machines never take the same row; on
SQLite the claiming UPDATE runs in a write transaction, which SQLite serializes.

Why one module of 400-odd lines: every query on the outbox and send-run tables, whose
state rules (queued, sending, sent, deferred, failed) must agree; DatabaseOutbox
(outbox_queue.py) and the recipient rule (recipients.py) are already apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, func, insert, or_, select, text, update

from briefing.store.outbox_schema import outbox, send_runs
from briefing.store.recipients import reachable_sql, takes_every_issue
from briefing.store.schema import UTCDateTime
from briefing.store.subscribers_schema import subscribers


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber_id: int
    email: str | None  # None: the subscriber was forgotten after the row was queued
    name: str | None
    token_id: str
    attempts: int


def run(conn: Connection, issue_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(send_runs).where(send_runs.c.issue_id == issue_id)).mappings().first()
    return dict(row) if row else None


def start_run(conn: Connection, issue_id: int, now: datetime) -> None:
    if run(conn, issue_id) is None:
        conn.execute(insert(send_runs).values(issue_id=issue_id, started_at=now))


def mark_ready(conn: Connection, issue_id: int, now: datetime) -> None:
    conn.execute(
        update(send_runs).where(send_runs.c.issue_id == issue_id).values(recipients_ready_at=now)
    )


def finish_run(conn: Connection, issue_id: int, now: datetime) -> None:
    conn.execute(update(send_runs).where(send_runs.c.issue_id == issue_id).values(finished_at=now))


def populate(conn: Connection, issue_id: int, subscriber_ids: Sequence[int], now: datetime) -> int:
    """Queue the recipients not queued yet (the UNIQUE key makes this safe to repeat)."""
    if not subscriber_ids:
        return 0
    have = {
        r[0]
        for r in conn.execute(
            select(outbox.c.subscriber_id).where(
                outbox.c.issue_id == issue_id, outbox.c.subscriber_id.in_(subscriber_ids)
            )
        )
    }
    rows = [
        {
            "issue_id": issue_id,
            "subscriber_id": s,
            "state": "queued",
            "attempts": 0,
            "updated_at": now,
        }
        for s in subscriber_ids
        if s not in have
    ]
    if rows:
        conn.execute(insert(outbox), rows)
    return len(rows)


def populate_all_topics(conn: Connection, issue_id: int, now: datetime) -> int:
    """Queue, in one statement, every active subscriber who takes every topic (the common
    case: no Python objects per subscriber); those with a topic choice are queued one by
    one by the caller, which knows the issue's topics."""
    from sqlalchemy import literal, text

    if conn.dialect.name == "postgresql":
        # A list imported just before the send has no statistics yet: the foreign-key
        # check of every row inserted below would keep a plan made for an empty
        # subscribers table, a sequential scan per row (20,000 recipients: 13-18 s instead
        # of 0.5 s). ANALYZE samples at most 30,000 rows, so it stays cheap at any size.
        conn.execute(text("ANALYZE subscribers"))
    already = select(outbox.c.id).where(
        outbox.c.issue_id == issue_id, outbox.c.subscriber_id == subscribers.c.id
    )
    source = select(
        literal(issue_id),
        subscribers.c.id,
        literal("queued"),
        literal(0),
        literal(now, UTCDateTime()),
    ).where(takes_every_issue(), ~already.exists())
    result = conn.execute(
        insert(outbox)
        .from_select(["issue_id", "subscriber_id", "state", "attempts", "updated_at"], source)
        # SQLAlchemy reads an INSERT's rowcount only when asked to (else -1 on psycopg)
        .execution_options(preserve_rowcount=True)
    )
    queued = int(result.rowcount or 0)
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE outbox"))  # the claims' plans, on the rows just queued
    return queued


def recover(conn: Connection, issue_id: int, now: datetime, *, resend: bool) -> list[str]:
    """After a crash: rows whose lease ran out. Those caught in ``sending`` may or may not
    have reached the server; they are returned by address and requeued (``resend``) or
    failed. Others just lose the dead worker's lease."""
    dead = _dead_owners(conn, issue_id, now)
    expired = outbox.c.lease_until < now
    stale = and_(
        outbox.c.issue_id == issue_id,
        or_(expired, outbox.c.lease_owner.in_(dead)) if dead else expired,
    )
    # one conditional UPDATE ... RETURNING: a sender recovering at the same moment waits
    # for these row locks, then finds the rows no longer `sending` and takes none of them
    # (a read first and an update by id let both report, and resend, the same rows)
    taken = conn.execute(
        update(outbox)
        .where(stale, outbox.c.state == "sending")
        .values(
            state="queued" if resend else "failed",
            lease_owner=None,
            lease_until=None,
            updated_at=now,
            last_error="fate unknown: the sender stopped while handing it over",
        )
        .returning(outbox.c.id, outbox.c.subscriber_id)
    ).all()
    conn.execute(
        update(outbox)
        .where(stale, outbox.c.state != "sending")
        .values(lease_owner=None, lease_until=None, updated_at=now)
    )
    if not taken:
        return []
    found = conn.execute(
        select(subscribers.c.id, subscribers.c.email).where(
            subscribers.c.id.in_({r.subscriber_id for r in taken})
        )
    )
    emails = {row.id: row.email for row in found}
    return [emails.get(r.subscriber_id) or f"(forgotten subscriber {r.id})" for r in taken]


def _dead_owners(conn: Connection, issue_id: int, now: datetime) -> list[str]:
    """Lease owners on this machine whose process is gone (a SIGKILL, a crash): their
    leases need not run out before the rows are taken up again."""
    owners = conn.execute(
        select(outbox.c.lease_owner)
        .distinct()
        .where(
            outbox.c.issue_id == issue_id,
            outbox.c.lease_until >= now,
            outbox.c.lease_owner.is_not(None),
        )
    ).scalars()
    return [owner for owner in owners if dead_here(owner)]


def dead_here(owner: str) -> bool:
    """Whether a lease owner ("host:pid:...") is a process on this machine that is gone."""
    import socket

    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    return not _alive(int(parts[1]))


def _alive(pid: int) -> bool:
    """Is the process running? A zombie (killed, not yet reaped) is not."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def renew(conn: Connection, issue_id: int, owner: str, now: datetime, lease: timedelta) -> None:
    """Keep the rows this worker holds while it works through a slow batch."""
    conn.execute(
        update(outbox)
        .where(outbox.c.issue_id == issue_id, outbox.c.lease_owner == owner)
        .values(lease_until=now + lease)
    )


def requeue_failed(conn: Connection, issue_id: int, now: datetime) -> int:
    """After a paused run: failed rows whose subscriber is still active get another try
    (a refusal storm is the server's fault, not the reader's)."""
    active = select(subscribers.c.id).where(subscribers.c.status == "active")
    result = conn.execute(
        update(outbox)
        .where(
            outbox.c.issue_id == issue_id,
            outbox.c.state == "failed",
            outbox.c.subscriber_id.in_(active),
        )
        .values(state="queued", updated_at=now, lease_owner=None, lease_until=None)
    )
    return int(result.rowcount or 0)


def set_paused(conn: Connection, issue_id: int, reason: str | None) -> None:
    conn.execute(
        update(send_runs).where(send_runs.c.issue_id == issue_id).values(paused_reason=reason)
    )


def paused_reason(conn: Connection, issue_id: int) -> str | None:
    """Why the issue's send run is paused, or None (not paused, or no run)."""
    reason = conn.execute(
        select(send_runs.c.paused_reason).where(send_runs.c.issue_id == issue_id)
    ).scalar()
    return str(reason) if reason else None


def claim(
    conn: Connection,
    issue_id: int,
    owner: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    after: int | None = None,
) -> list[Claimed]:
    """Take up to ``limit`` due rows for ``owner`` until ``now + lease``. ``after``: the
    last row id this sender claimed before; queued rows past it are looked for first.

    Why ``after``: the queued rows are wanted in id order, and PostgreSQL's planner,
    whose statistics date from the queueing (every row queued), walks the primary key
    in id order and filters, through every row already sent. EXPLAIN ANALYZE, 100,000
    rows of which 90,000 sent:

        Limit (actual time=80.579..80.839 rows=200)
          -> LockRows
            -> Index Scan using pk_outbox on outbox (actual time=80.568..80.669 rows=200)
                 Filter: (... AND (issue_id = 1) AND ((state)::text = 'queued'::text))
                 Rows Removed by Filter: 90000       Buffers: shared hit=180497

    80 ms a claim late in the send (the whole send: quadratic). An index on (issue_id,
    state, id), or one on (issue_id, id) WHERE state = 'queued', does not change that
    plan while the statistics say every row is queued; starting past ``after`` does:
    the scan begins where this sender left off (0.3 ms). Rows behind it that became
    due again (released, requeued after a lost connection, a dead sender's) are taken
    once nothing is left ahead, by the same query from the start."""
    # two index-friendly queries (queued rows in id order, then deferred ones now due)
    # rather than one with an OR, which would sort every queued row at every claim
    free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
    released = or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now)
    queued = and_(outbox.c.issue_id == issue_id, outbox.c.state == "queued", free, released)
    retry = and_(
        outbox.c.issue_id == issue_id,
        outbox.c.state == "deferred",
        outbox.c.next_attempt_at <= now,
        free,
    )
    due = or_(queued, retry)
    searches = [queued, retry]
    if after is not None:
        searches.insert(0, and_(queued, outbox.c.id > after))
    ids: list[int] = []
    for condition in searches:
        if len(ids) >= limit:
            break
        candidates = select(outbox.c.id).where(condition).order_by(outbox.c.id)
        if ids:
            candidates = candidates.where(outbox.c.id.not_in(ids))
        candidates = candidates.limit(limit - len(ids))
        if conn.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        ids += [r[0] for r in conn.execute(candidates)]
    if not ids:
        return []
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids), due)
        .values(lease_owner=owner, lease_until=now + lease, updated_at=now)
    )
    rows = conn.execute(
        select(
            outbox.c.id,
            outbox.c.subscriber_id,
            outbox.c.attempts,
            subscribers.c.email,
            subscribers.c.name,
            subscribers.c.token_id,
        )
        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
        .where(outbox.c.id.in_(ids), outbox.c.lease_owner == owner)
        .order_by(outbox.c.id)
    ).all()
    return [Claimed(r.id, r.subscriber_id, r.email, r.name, r.token_id, r.attempts) for r in rows]


# finish() runs for every refusal and requeue: the statement is built once
_FINISH = text(
    "UPDATE outbox SET state = :state, updated_at = :now, lease_owner = NULL, lease_until = NULL, "
    "last_code = :code, last_error = :error, next_attempt_at = :retry_at, "
    "sent_at = CASE WHEN :state = 'sent' THEN :now ELSE sent_at END WHERE id = :row_id"
).bindparams(
    # typed, so PostgreSQL reads :state as the same type in both places (psycopg casts it)
    bindparam("state", type_=String()),
    bindparam("now", type_=UTCDateTime()),
    bindparam("retry_at", type_=UTCDateTime()),
)


def finish(
    conn: Connection,
    row_id: int,
    state: str,
    now: datetime,
    *,
    code: int | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    conn.execute(
        _FINISH,
        {
            "state": state,
            "now": now,
            "code": code,
            "error": error,
            "retry_at": retry_at,
            "row_id": row_id,
        },
    )


def release(conn: Connection, owner: str, row_ids: Iterable[int], now: datetime) -> None:
    """Give back claimed rows this worker will not get to (a clean stop)."""
    ids = list(row_ids)
    if ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.lease_owner == owner, outbox.c.state != "sending")
            .values(lease_owner=None, lease_until=None, updated_at=now)
        )


def counts(conn: Connection, issue_id: int) -> dict[str, int]:
    rows = conn.execute(
        select(outbox.c.state, func.count())
        .where(outbox.c.issue_id == issue_id)
        .group_by(outbox.c.state)
    )
    found = {r[0]: int(r[1]) for r in rows}
    return {
        s: found.get(s, 0) for s in ("queued", "sending", "sent", "deferred", "failed", "skipped")
    }


def next_retry(conn: Connection, issue_id: int) -> datetime | None:
    """When the next row becomes due: a deferred row's retry, or a queued row's release
    (per-subscriber local send times)."""
    return conn.execute(
        select(func.min(outbox.c.next_attempt_at)).where(
            outbox.c.issue_id == issue_id,
            outbox.c.state.in_(("deferred", "queued")),
            outbox.c.next_attempt_at.is_not(None),
        )
    ).scalar()


def set_release_times(conn: Connection, issue_id: int, times: dict[str | None, datetime]) -> None:
    """Hold queued rows until their subscriber's local send time: ``times`` maps a
    subscriber timezone (None: those without one) to the instant their rows are due."""
    for tz, at in times.items():
        who = select(subscribers.c.id).where(
            subscribers.c.timezone.is_(None) if tz is None else subscribers.c.timezone == tz
        )
        conn.execute(
            update(outbox)
            .where(
                outbox.c.issue_id == issue_id,
                outbox.c.state == "queued",
                outbox.c.attempts == 0,
                outbox.c.subscriber_id.in_(who),
            )
            .values(next_attempt_at=at)
        )


def expire_unreleased(conn: Connection, issue_id: int, before: datetime, now: datetime) -> int:
    """Rows still queued whose release time is older than ``before``: their local send
    time passed too long ago to send a stale issue now."""
    result = conn.execute(
        update(outbox)
        .where(
            outbox.c.issue_id == issue_id,
            outbox.c.state == "queued",
            outbox.c.next_attempt_at.is_not(None),
            outbox.c.next_attempt_at < before,
        )
        .values(
            state="skipped",
            updated_at=now,
            lease_owner=None,
            lease_until=None,
            last_error="expired: their local send time passed while the issue could not be sent",
        )
    )
    return int(result.rowcount or 0)


def subscriber_timezones(conn: Connection, issue_id: int) -> list[str | None]:
    """The distinct timezones of the subscribers queued for an issue."""
    rows = conn.execute(
        select(subscribers.c.timezone)
        .distinct()
        .join(outbox, outbox.c.subscriber_id == subscribers.c.id)
        .where(outbox.c.issue_id == issue_id, outbox.c.state == "queued")
    )
    return [r[0] for r in rows]


def sent_since(conn: Connection, since: datetime) -> int:
    return int(conn.execute(select(func.count()).where(outbox.c.sent_at >= since)).scalar_one())


def runs_to_work(conn: Connection) -> list[tuple[int, datetime]]:
    """The send runs workers may take up: the issue is `sending`, its recipients are all
    queued, and the run is neither finished nor paused. (issue id, when the run started)."""
    from briefing.store.issues_schema import issues

    rows = conn.execute(
        select(send_runs.c.issue_id, send_runs.c.started_at)
        .join(issues, issues.c.id == send_runs.c.issue_id)
        .where(
            issues.c.state == "sending",
            send_runs.c.recipients_ready_at.is_not(None),
            send_runs.c.finished_at.is_(None),
            send_runs.c.paused_reason.is_(None),
        )
        .order_by(send_runs.c.issue_id)
    ).all()
    return [(int(r.issue_id), r.started_at) for r in rows]


def has_work(conn: Connection, issue_id: int, now: datetime) -> bool:
    """Whether a sender could do something for the issue now: a row due and not leased,
    a lease that ran out, or rows leased by a process of this machine that is gone."""
    free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
    due = or_(
        outbox.c.state == "sending",
        outbox.c.next_attempt_at.is_(None),
        outbox.c.next_attempt_at <= now,
    )
    found = conn.execute(
        select(outbox.c.id)
        .where(
            outbox.c.issue_id == issue_id,
            outbox.c.state.in_(("queued", "deferred", "sending")),
            free,
            due,
        )
        .limit(1)
    ).first()
    return found is not None or bool(_dead_owners(conn, issue_id, now))


def active_senders(conn: Connection, now: datetime) -> int:
    """How many senders (lease owners, any issue, any process or machine) hold rows now:
    the share of ``delivery.rate`` each one may take."""
    return int(
        conn.execute(
            select(func.count(outbox.c.lease_owner.distinct())).where(
                outbox.c.lease_owner.is_not(None), outbox.c.lease_until >= now
            )
        ).scalar_one()
    )


def failures(conn: Connection, issue_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(subscribers.c.email, outbox.c.state, outbox.c.last_code, outbox.c.last_error)
        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
        .where(outbox.c.issue_id == issue_id, outbox.c.state.in_(["failed", "deferred"]))
        .order_by(outbox.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


class HotPath:
    """The statements run for every message, on the raw DB-API connection.

    SQLAlchemy's execution machinery costs more per call than these UPDATEs themselves;
    on the send path that is most of the time a message takes. The SQL is plain; only the
    parameter style and how a datetime is passed follow the driver, exactly as SQLAlchemy
    would (SQLite: naive UTC text; PostgreSQL: aware datetimes).

    On SQLite (in process: a statement costs microseconds) each step is two or three
    UPDATEs, and a commit. On PostgreSQL every statement, BEGIN and COMMIT is a round
    trip to the server, and the round trips were most of a message's time (20,000
    messages: 37 s waited for the database, 5 s of it the server's work): there a whole
    batch of steps is one statement (``_statement``: the rows sent, started and skipped
    as three UPDATEs of one WITH, which commit together), run outside any transaction
    of the connection's, so it commits on its own: one round trip a batch.
    """

    def __init__(self, dialect: Any) -> None:
        self.sqlite = dialect.name == "sqlite"
        self.postgresql = dialect.name == "postgresql"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._wanted = (  # the row's subscriber may still be sent to
            "EXISTS (SELECT 1 FROM subscribers WHERE subscribers.id = outbox.subscriber_id "
            f"AND {reachable_sql(dialect)})"
        )
        self._start = (
            f"UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = {mark} "
            f"WHERE id = {mark} AND lease_owner = {mark} AND {self._wanted}"
        )
        self._skip = (
            f"UPDATE outbox SET state = 'skipped', updated_at = {mark}, lease_owner = NULL, lease_until = NULL, "
            f"last_error = 'left the list before their turn' WHERE id = {mark} AND lease_owner = {mark} "
            "AND state IN ('queued', 'deferred')"
        )
        self._sent = (
            f"UPDATE outbox SET state = 'sent', updated_at = {mark}, sent_at = {mark}, lease_owner = NULL, "
            f"lease_until = NULL, last_code = 250, last_error = NULL, next_attempt_at = NULL WHERE id = {mark}"
        )
        self._together: dict[tuple[int, int], str] = {}

    def _time(self, value: datetime) -> Any:
        if self.sqlite:  # how SQLAlchemy's SQLite DateTime stores it
            return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def record(
        self,
        dbapi: Any,
        steps: Sequence[tuple[int | None, int | None, str]],
        now: datetime,
        *,
        commit: bool = True,
    ) -> list[bool]:
        """Several steps (sent, start, owner) in one transaction, committed here (unless
        ``commit`` is false: then they are part of the connection's open transaction);
        rolled back whole if one fails. Returns each step's answer: whether ``start``
        may be sent."""
        if self.postgresql:
            return self._record_together(dbapi, steps, now, commit=commit)
        if not commit:
            return [self.sent_and_start(dbapi, s, c, o, now) for s, c, o in steps]
        try:
            answers = [
                self.sent_and_start(dbapi, sent, start, owner, now) for sent, start, owner in steps
            ]
            dbapi.commit()
        except BaseException:
            dbapi.rollback()
            raise
        return answers

    def _statement(self, sent: int, start: int) -> str:
        """PostgreSQL: ``sent`` rows recorded sent and ``start`` rows started (or skipped)
        in one statement. The UPDATEs of one WITH see the same snapshot and must touch
        disjoint rows (the caller sees to it); a row is started only under its owner's
        lease and while its subscriber is reachable, else skipped if still queued or
        deferred under that lease (``_start`` and ``_skip`` say the same, one at a time).
        Scalar parameters, so the server's cached generic plan (index lookups by id) is
        as good as a fresh one and is the one used: with arrays it planned every time,
        and planning took longer than running."""
        key = (sent, start)
        if key not in self._together:
            parts = []
            if sent:
                ids = ", ".join(f"%(s{i})s" for i in range(sent))
                parts.append(
                    "sent AS (UPDATE outbox SET state = 'sent', updated_at = %(now)s, "
                    "sent_at = %(now)s, lease_owner = NULL, lease_until = NULL, last_code = 250, "
                    f"last_error = NULL, next_attempt_at = NULL WHERE id IN ({ids}))"
                )
            if not start:
                self._together[key] = "WITH " + ", ".join(parts) + " SELECT 0 WHERE false"
                return self._together[key]
            pairs = ", ".join(f"(%(i{i})s::integer, %(o{i})s::text)" for i in range(start))
            parts += [
                f"start (id, owner) AS (VALUES {pairs})",
                "started AS (UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                "updated_at = %(now)s FROM start WHERE outbox.id = start.id "
                f"AND outbox.lease_owner = start.owner AND {self._wanted} RETURNING outbox.id)",
                "skipped AS (UPDATE outbox SET state = 'skipped', updated_at = %(now)s, "
                "lease_owner = NULL, lease_until = NULL, "
                "last_error = 'left the list before their turn' FROM start "
                "WHERE outbox.id = start.id AND outbox.lease_owner = start.owner "
                f"AND outbox.state IN ('queued', 'deferred') AND NOT {self._wanted})",
            ]
            self._together[key] = "WITH " + ", ".join(parts) + " SELECT id FROM started"
        return self._together[key]

    def _record_together(
        self,
        dbapi: Any,
        steps: Sequence[tuple[int | None, int | None, str]],
        now: datetime,
        *,
        commit: bool,
    ) -> list[bool]:
        """PostgreSQL: the batch as one statement; when committing, on its own
        (autocommit for this statement: no BEGIN, no COMMIT, one round trip). A batch
        that names a row twice (started, then sent: never so in a send, whose workers
        each wait for their step's answer) is cut where it does, into statements run
        in order in one transaction."""
        conn = getattr(dbapi, "driver_connection", dbapi)  # a pool's proxy: its psycopg one
        chunks: list[list[tuple[int | None, int | None, str]]] = [[]]
        seen: set[int] = set()
        for sent, start, owner in steps:
            if sent is not None and sent == start:  # in order: sent first, then start
                chunks[-1].append((sent, None, owner))
                chunks.append([])
                seen = set()
                sent = None
            ids = {i for i in (sent, start) if i is not None}
            if ids & seen:
                chunks.append([])
                seen = set()
            chunks[-1].append((sent, start, owner))
            seen |= ids
        alone = commit and len(chunks) == 1 and conn.info.transaction_status == 0  # IDLE
        if alone:
            conn.autocommit = True
        started: set[int] = set()
        try:
            with conn.cursor() as cursor:
                for chunk in chunks:
                    params: dict[str, Any] = {"now": now}
                    sent_ids = [sent for sent, _, _ in chunk if sent is not None]
                    starts = [(start, owner) for _, start, owner in chunk if start is not None]
                    if not sent_ids and not starts:
                        continue
                    for i, row_id in enumerate(sent_ids):
                        params[f"s{i}"] = row_id
                    for i, (row_id, owner) in enumerate(starts):
                        params[f"i{i}"], params[f"o{i}"] = row_id, owner
                    cursor.execute(self._statement(len(sent_ids), len(starts)), params)
                    started |= {row[0] for row in cursor.fetchall()}
            if commit and not alone:
                conn.commit()
        except BaseException:
            if commit and not alone:
                conn.rollback()
            raise
        finally:
            if alone:
                conn.autocommit = False
        return [start is not None and start in started for _, start, _ in steps]

    def sent_and_start(
        self, dbapi: Any, sent: int | None, start: int | None, owner: str, now: datetime
    ) -> bool:
        """Record ``sent`` as sent and mark ``start`` sending (if the subscriber still
        wants it), on a DB-API connection; the caller commits. Returns whether ``start``
        may be sent."""
        cursor = dbapi.cursor()
        try:
            stamp = self._time(now)
            if sent is not None:
                cursor.execute(self._sent, (stamp, stamp, sent))
            if start is None:
                return False
            cursor.execute(self._start, (stamp, start, owner))
            if cursor.rowcount == 1:
                return True
            # not ours any more (another worker took it after our lease ran out) or the
            # subscriber left: only the second may be recorded as skipped, and only by us
            cursor.execute(self._skip, (stamp, start, owner))
            return False
        finally:
            cursor.close()
