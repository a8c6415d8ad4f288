"""Subscribers in the database: rows, the audit trail of events, the suppression list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, insert, select, update

from briefing.email_address import SUPPRESSED, email_hash, suppression_hash
from briefing.errors import SubscriberNotFound
from briefing.models import Subscriber
from briefing.store.subscribers_schema import (
    subscriber_events,
    subscribers,
    suppressions,
    takes_every_topic,
)


def _subscriber(r: Any) -> Subscriber:
    return Subscriber(
        id=r.id,
        email=r.email,
        name=r.name,
        status=r.status,
        paused=bool(r.paused),
        topics=tuple(r.topics) if r.topics is not None else None,
        timezone=r.timezone,
        locale=r.locale,
        token_id=r.token_id,
        created_at=r.created_at,
        confirmed_at=r.confirmed_at,
        unsubscribed_at=r.unsubscribed_at,
        unsubscribe_reason=r.unsubscribe_reason,
        consent={
            "source": r.consent_source,
            "at": r.consent_at.isoformat() if r.consent_at else None,
            "ip": r.consent_ip,
            "user_agent": r.consent_user_agent,
            "version": r.consent_version,
        },
    )


def by_email(conn: Connection, email: str) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.email_key == email.lower())).first()
    return _subscriber(row) if row else None


def statuses(conn: Connection, emails: Sequence[str]) -> dict[str, str]:
    """For those of ``emails`` already on the list: their lower-cased address -> status
    (one query for the lot: an import looks up its rows a batch at a time)."""
    keys = sorted({e.strip().lower() for e in emails})
    if not keys:
        return {}
    rows = conn.execute(
        select(subscribers.c.email_key, subscribers.c.status).where(
            subscribers.c.email_key.in_(keys)
        )
    )
    return {r.email_key: r.status for r in rows}


def get(conn: Connection, email: str) -> Subscriber:
    found = by_email(conn, email)
    if found is None:
        raise SubscriberNotFound(email)
    return found


def by_token_id(conn: Connection, token_id: str) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.token_id == token_id)).first()
    return _subscriber(row) if row else None


def by_id(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
    return _subscriber(row) if row else None


def iterate(
    conn: Connection,
    *,
    status: str | None = None,
    chose_topics: bool = False,
    batch: int = 1000,
) -> Iterator[Subscriber]:
    """Every subscriber (by id), fetched in batches: the list is never held in memory.
    ``chose_topics``: only those who picked topics (the others receive every issue)."""
    last = 0
    while True:
        query = select(subscribers).where(subscribers.c.id > last, subscribers.c.email.is_not(None))
        if status:
            query = query.where(subscribers.c.status == status)
        if chose_topics:
            query = query.where(~takes_every_topic())
        rows = conn.execute(query.order_by(subscribers.c.id).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield _subscriber(r)
        last = rows[-1].id


def insert_subscriber(conn: Connection, values: dict[str, Any]) -> int:
    result = conn.execute(insert(subscribers).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_subscribers(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert many subscribers at once; their ids by email_key. (An executemany and one
    SELECT: an INSERT ... RETURNING of many rows is one huge statement that the driver
    parses each time, slower here than the rows themselves.)"""
    if not rows:
        return {}
    conn.execute(insert(subscribers), list(rows))
    found = conn.execute(
        select(subscribers.c.email_key, subscribers.c.id).where(
            subscribers.c.email_key.in_([r["email_key"] for r in rows])
        )
    )
    return {r.email_key: int(r.id) for r in found}


def update_subscriber(conn: Connection, subscriber_id: int, now: datetime, **values: Any) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(updated_at=now, **values)
    )


def _unsubscribe(conn: Connection, which: Any, now: datetime, reason: str, *returning: Any) -> Any:
    """Unsubscribe the subscribers ``which`` selects unless already suppressed, in one
    conditional UPDATE (two clicks at once change a row once), returning ``returning``
    of the rows it changed."""
    return conn.execute(
        update(subscribers)
        .where(which, subscribers.c.status.not_in(SUPPRESSED))
        .values(
            updated_at=now, status="unsubscribed", unsubscribed_at=now, unsubscribe_reason=reason
        )
        .returning(*returning)
    )


def mark_unsubscribed_many(
    conn: Connection, subscriber_ids: Sequence[int], now: datetime, reason: str
) -> set[int]:
    """Unsubscribe these subscribers unless already suppressed; the ids this call changed."""
    if not subscriber_ids:
        return set()
    changed = _unsubscribe(
        conn, subscribers.c.id.in_(set(subscriber_ids)), now, reason, subscribers.c.id
    )
    return {row.id for row in changed}


class Click(NamedTuple):
    """One-click unsubscribe's view of a subscriber: what the answer needs, nothing more."""

    id: int
    email: str | None
    status: str
    changed: bool  # unsubscribed by this call (not before, nor by someone at the same time)


def unsubscribe_by_token_ids(
    conn: Connection, token_ids: Sequence[str], now: datetime, reason: str
) -> dict[str, Click]:
    """Unsubscribe the subscribers these token ids name, unless already suppressed: one
    conditional UPDATE ... RETURNING (two clicks at once change a row once), then one
    narrow read for the tokens it did not change (a repeated click, someone suppressed,
    a token naming nobody: absent from the answer). By token id."""
    wanted = set(token_ids)
    if not wanted:
        return {}
    changed = _unsubscribe(
        conn,
        subscribers.c.token_id.in_(wanted),
        now,
        reason,
        subscribers.c.id,
        subscribers.c.token_id,
        subscribers.c.email,
    )
    found = {row.token_id: Click(row.id, row.email, "unsubscribed", True) for row in changed}
    if rest := wanted - found.keys():
        for row in conn.execute(
            select(
                subscribers.c.id, subscribers.c.token_id, subscribers.c.email, subscribers.c.status
            ).where(subscribers.c.token_id.in_(rest))
        ):
            found[row.token_id] = Click(row.id, row.email, row.status, False)
    return found


def add_events(
    conn: Connection,
    subscriber_ids: Sequence[int],
    at: datetime,
    action: str,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """The same event for many subscribers, in one statement (executemany)."""
    add_event_rows(
        conn,
        [
            {"subscriber_id": i, "at": at, "action": action, "actor": actor,
             "detail": detail or {}}
            for i in subscriber_ids
        ],
    )  # fmt: skip


def add_event(
    conn: Connection,
    subscriber_id: int | None,
    at: datetime,
    action: str,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(subscriber_events).values(
            subscriber_id=subscriber_id, at=at, action=action, actor=actor, detail=detail or {}
        )
    )


def add_event_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Event rows of their own each (subscriber_id, at, action, actor, detail), at once."""
    if rows:
        conn.execute(insert(subscriber_events), list(rows))


def events(conn: Connection, subscriber_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(subscriber_events)
        .where(subscriber_events.c.subscriber_id == subscriber_id)
        .order_by(subscriber_events.c.id)
    ).mappings()
    return [dict(r) for r in rows]


PERSONAL_KEYS = ("ip", "user_agent", "name", "email")


def scrub_events(conn: Connection, subscriber_id: int) -> None:
    """Erase personal data kept in a subscriber's event details (GDPR erasure)."""
    for event in events(conn, subscriber_id):
        detail = dict(event["detail"] or {})
        if any(k in detail for k in PERSONAL_KEYS):
            clean = {k: v for k, v in detail.items() if k not in PERSONAL_KEYS}
            conn.execute(
                update(subscriber_events)
                .where(subscriber_events.c.id == event["id"])
                .values(detail=clean)
            )


def _hashes(email: str, key: bytes | None) -> list[str]:
    """The suppression list's hashes of an address: keyed (HMAC), and the bare SHA-256
    older versions wrote (still read)."""
    return [*([suppression_hash(key, email)] if key is not None else []), email_hash(email)]


def suppressed(conn: Connection, email: str, key: bytes | None) -> str | None:
    """Why an address may not be (re)added: its subscriber left (unsubscribed, bounced,
    complained), or it is on the suppression list (forgotten: only a hash is left).
    ``key``: the suppression key (keyring.suppression_key); without it only the rows of
    older versions are matched."""
    row = conn.execute(
        select(subscribers.c.status).where(subscribers.c.email_key == email.strip().lower())
    ).first()
    if row is not None and row.status in SUPPRESSED:
        return str(row.status)
    found = conn.execute(
        select(suppressions.c.reason).where(suppressions.c.email_hash.in_(_hashes(email, key)))
    ).first()
    return found.reason if found else None


def suppressed_many(conn: Connection, emails: Sequence[str], key: bytes | None) -> dict[str, str]:
    """For those of ``emails`` on the suppression list: address (as given) -> reason, in
    one query. (Addresses whose subscriber left are the caller's: see ``statuses``.)"""
    wanted: dict[str, str] = {}
    for email in emails:
        for digest in _hashes(email, key):
            wanted[digest] = email
    if not wanted:
        return {}
    found: dict[str, str] = {}
    rows = conn.execute(
        select(suppressions.c.email_hash, suppressions.c.reason).where(
            suppressions.c.email_hash.in_(sorted(wanted))
        )
    )
    for r in rows:
        found.setdefault(wanted[r.email_hash], r.reason)
    return found


def suppress(conn: Connection, email: str, reason: str, at: datetime, key: bytes) -> None:
    """Put an address on the suppression list as an HMAC under ``key`` (a row an older
    version wrote for it, a bare SHA-256, is replaced)."""
    keyed = suppression_hash(key, email)
    conn.execute(delete(suppressions).where(suppressions.c.email_hash == email_hash(email)))
    if conn.execute(
        select(suppressions.c.email_hash).where(suppressions.c.email_hash == keyed)
    ).first():
        conn.execute(
            update(suppressions).where(suppressions.c.email_hash == keyed).values(reason=reason)
        )
    else:
        conn.execute(insert(suppressions).values(email_hash=keyed, reason=reason, at=at))


def unsuppress(conn: Connection, email: str, key: bytes | None) -> None:
    """Take an address off the suppression list (its owner's own confirmed opt-in)."""
    conn.execute(delete(suppressions).where(suppressions.c.email_hash.in_(_hashes(email, key))))


def expire_requests(conn: Connection, cutoff: datetime) -> tuple[int, int]:
    """Delete what is left of subscription requests made before ``cutoff`` and never
    confirmed: pending subscribers (the row, with its IP and user agent, and its events),
    and the request events of people who had left and asked to come back but did not
    confirm. Returns (subscribers deleted, requests deleted). A request that was confirmed
    stays: it is the consent record."""
    later = subscriber_events.alias("later")
    recent_request = (
        select(later.c.id)
        .where(
            later.c.subscriber_id == subscribers.c.id,
            later.c.action == "requested",
            later.c.at >= cutoff,
        )
        .exists()
    )
    stale = (
        select(subscribers.c.id)
        .where(
            subscribers.c.status == "pending",
            subscribers.c.created_at < cutoff,
            ~recent_request,
        )
        .scalar_subquery()
    )
    conn.execute(delete(subscriber_events).where(subscriber_events.c.subscriber_id.in_(stale)))
    people = conn.execute(delete(subscribers).where(subscribers.c.id.in_(stale))).rowcount
    # still pending thanks to a newer request: the first request's IP and user agent go
    # (confirming takes the consent details from the newest request's event)
    conn.execute(
        update(subscribers)
        .where(subscribers.c.status == "pending", subscribers.c.created_at < cutoff)
        .values(consent_ip=None, consent_user_agent=None)
    )
    confirmed_after = (
        select(later.c.id)
        .where(
            later.c.subscriber_id == subscriber_events.c.subscriber_id,
            later.c.action == "confirmed",
            later.c.at >= subscriber_events.c.at,
        )
        .exists()
    )
    requests = conn.execute(
        delete(subscriber_events).where(
            subscriber_events.c.action == "requested",
            subscriber_events.c.at < cutoff,
            ~confirmed_after,
        )
    ).rowcount
    return int(people or 0), int(requests or 0)


def counts(conn: Connection) -> dict[str, int]:
    from sqlalchemy import func

    rows = conn.execute(select(subscribers.c.status, func.count()).group_by(subscribers.c.status))
    return {r[0]: int(r[1]) for r in rows}
