"""Composition for the list: add, import, export, remove, double opt-in, one-click
unsubscribe, preferences, and who receives an issue (forgetting: erasure.py).

Every state change writes an event row (the audit trail that proves consent). The
suppression list wins over imports: an address that unsubscribed, bounced, complained or
was forgotten is never re-activated by an import; only the person's own confirmed
opt-in brings it back.

Why one module of 400-odd lines: every change of a subscriber's state, each one transaction
with its event row, and the consent rules they share; the CSV format (subscriber_csv.py),
the queue of web requests (confirmations.py) and erasure (erasure.py) are already apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.email_address import SUPPRESSED, normalize_email
from briefing.errors import AlreadySubscribed, BriefingError
from briefing.headertext import name_text
from briefing.links import confirm_url
from briefing.models import Subscriber
from briefing.services import keyring, notices
from briefing.store import subscribers as store
from briefing.store.subscribers import Click as Click  # the answer of unsubscribe_clicks
from briefing.subscriber_csv import ImportRow, parse_topics, read_csv
from briefing.tokens import manage_links, new_token_id, sign, verify

# a confirmation link is made a moment after its request is recorded (and its issue time
# is kept to the second): how much later than the link a request may be and still be its own
LINK_SLACK = timedelta(seconds=2)


@dataclass(frozen=True)
class Links:
    unsubscribe_url: str
    preferences_url: str
    token: str


def links(settings: Settings, sub: Subscriber, secrets: Sequence[str]) -> Links:
    return Links(*manage_links(settings.newsletter.base_url, sub.token_id, secrets))


def topic_slugs(settings: Settings) -> list[str]:
    return [t.slug for t in settings.topics]


def add(
    settings: Settings,
    engine: Engine,
    email: str,
    *,
    name: str | None = None,
    topics: str | None = None,
    timezone: str | None = None,
    actor: str = "cli",
    source: str = "cli",
    now: datetime | None = None,
) -> Subscriber:
    """Add an active subscriber by hand (the operator vouches for the consent)."""
    now = now or utcnow()
    address = normalize_email(email)
    name = name_text(name)
    chosen = parse_topics(topics, topic_slugs(settings))
    key = keyring.suppression_key(settings, engine, now=now)
    with engine.begin() as conn:
        existing = store.by_email(conn, address)
        if existing is not None:
            raise AlreadySubscribed(address, existing.status)
        reason = store.suppressed(conn, address, key)
        if reason:
            raise BriefingError(
                f"{address} is on the suppression list ({reason})",
                "only the person's own confirmed opt-in can bring an address back",
            )
        sid = store.insert_subscriber(
            conn,
            _new_row(
                address, name, chosen, timezone, "active", source, now, settings, confirmed=True
            ),
        )
        store.add_event(conn, sid, now, "subscribed", actor, {"source": source})
        found = store.by_id(conn, sid)
        assert found is not None
        return found


def _new_row(
    address: str,
    name: str | None,
    topics: tuple[str, ...] | None,
    timezone: str | None,
    status: str,
    source: str,
    now: datetime,
    settings: Settings,
    *,
    confirmed: bool,
    ip: str | None = None,
    user_agent: str | None = None,
) -> dict[str, Any]:
    return {
        "email": address,
        "email_key": address.lower(),
        "name": name,
        "status": status,
        "paused": False,
        "topics": list(topics) if topics is not None else None,
        "timezone": timezone,
        "locale": None,
        "token_id": new_token_id(),
        "created_at": now,
        "updated_at": now,
        "consent_source": source,
        "consent_at": now,
        "consent_ip": ip,
        "consent_user_agent": user_agent,
        "consent_version": settings.subscriptions.consent_version,
        "confirmed_at": now if confirmed else None,
    }


def unsubscribe(
    engine: Engine,
    sub: Subscriber,
    *,
    how: str,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Unsubscribe (idempotent). Returns False when there was nothing to change."""
    now = now or utcnow()
    if sub.status in SUPPRESSED:
        return False
    with engine.begin() as conn:
        # the row's status keeps them off the list; the suppression list's hash is
        # written when the address itself goes (erasure.forget)
        if sub.id not in store.mark_unsubscribed_many(conn, [sub.id], now, reason or how):
            return False  # another click got there first
        store.add_event(conn, sub.id, now, "unsubscribed", actor, {"how": how})
    return True


def unsubscribe_clicks(
    engine: Engine,
    tokens: Sequence[str],
    secrets: Sequence[str],
    *,
    how: str = "one-click",
    actor: str = "link",
    now: datetime | None = None,
) -> list[Click | None]:
    """Many one-click unsubscribes (RFC 8058 POSTs: the manage tokens of their links) in one
    transaction: the tokens are verified, and each subscriber not yet suppressed is
    unsubscribed with its event row (one UPDATE ... RETURNING, one executemany), once
    however often its token repeats. Returns, for each token in order, the subscriber as
    it now stands (id, email, status), or None for a forged token or one that names nobody
    (or someone forgotten): a broken link. All or nothing: an error changes no row."""
    now = now or utcnow()
    ids = [verify(token, secrets) for token in tokens]
    with engine.begin() as conn:
        found = store.unsubscribe_by_token_ids(conn, [i for i in ids if i is not None], now, how)
        changed = sorted(click.id for click in found.values() if click.changed)
        store.add_events(conn, changed, now, "unsubscribed", actor, {"how": how})
    out: list[Click | None] = []
    for maybe_id in ids:
        click = found.get(maybe_id) if maybe_id is not None else None
        out.append(None if click is None or click.status == "forgotten" else click)
    return out


def remove(
    engine: Engine, email: str, *, actor: str = "cli", now: datetime | None = None
) -> Subscriber:
    with engine.connect() as conn:
        sub = store.get(conn, normalize_email(email))
    if not unsubscribe(engine, sub, how="removed by operator", actor=actor, now=now):
        raise BriefingError(f"{sub.email} is already {sub.status}")
    with engine.connect() as conn:
        found = store.by_id(conn, sub.id)
    assert found is not None
    return found


@dataclass
class ImportReport:
    file: str
    added: int = 0
    existing: int = 0
    suppressed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    committed: bool = True


def import_file(
    settings: Settings,
    engine: Engine,
    path: Path,
    *,
    strict: bool = False,
    actor: str = "cli",
    now: datetime | None = None,
) -> ImportReport:
    """Import a CSV (email,name,topics,timezone). Bad rows are reported by line; with
    ``strict`` the whole file is refused when any row is bad."""
    now = now or utcnow()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BriefingError(f"cannot read {path}: {exc.strerror}", "check the path") from exc
    parsed = read_csv(data, source=str(path), known_topics=topic_slugs(settings))
    report = ImportReport(str(path), errors=list(parsed.errors), notes=list(parsed.notes))
    if strict and parsed.errors:
        report.committed = False
        return report
    key = keyring.suppression_key(settings, engine, now=now)
    with engine.begin() as conn:
        for start in range(0, len(parsed.rows), IMPORT_BATCH):
            _import_batch(
                conn,
                parsed.rows[start : start + IMPORT_BATCH],
                key,
                report,
                path,
                actor,
                now,
                settings,
            )
    return report


# rows looked up and inserted a batch at a time: a few statements per batch, not four per
# row (on PostgreSQL each is a round trip: 20,000 rows took a minute or two)
IMPORT_BATCH = 500


def _import_batch(
    conn: Connection,
    rows: Sequence[ImportRow],
    key: bytes | None,
    report: ImportReport,
    path: Path,
    actor: str,
    now: datetime,
    settings: Settings,
) -> None:
    """Import one batch of parsed rows (in order, so the notes keep the file's order)."""
    known = store.statuses(conn, [row.email for row in rows])
    blocked = store.suppressed_many(
        conn, [row.email for row in rows if row.email.strip().lower() not in known], key
    )
    added: list[ImportRow] = []
    for row in rows:
        status = known.get(row.email.strip().lower())
        if status in SUPPRESSED:
            report.suppressed += 1
            report.notes.append(f"line {row.line}: {row.email} not imported: {status}")
            continue
        if status is not None:
            report.existing += 1
            continue
        reason = blocked.get(row.email)
        if reason:
            report.suppressed += 1
            report.notes.append(
                f"line {row.line}: {row.email} not imported: on the suppression list ({reason})"
            )
            continue
        added.append(row)
    ids = store.insert_subscribers(
        conn,
        [
            _new_row(
                row.email,
                row.name,
                row.topics,
                row.timezone,
                "active",
                f"import:{path.name}",
                now,
                settings,
                confirmed=True,
            )
            for row in added
        ],
    )
    store.add_event_rows(
        conn,
        [
            {
                "subscriber_id": ids[row.email.lower()],
                "at": now,
                "action": "imported",
                "actor": actor,
                "detail": {"file": path.name, "line": row.line},
            }
            for row in added
        ],
    )
    report.added += len(added)


def export_rows(engine: Engine) -> Iterator[dict[str, object]]:
    with engine.connect() as conn:
        for s in store.iterate(conn):
            yield {
                "email": s.email,
                "name": s.name,
                "status": s.status,
                "topics": ";".join(s.topics) if s.topics else "",
                "timezone": s.timezone,
                "locale": s.locale,
                "created_at": s.created_at.isoformat(),
                "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else "",
                "unsubscribed_at": s.unsubscribed_at.isoformat() if s.unsubscribed_at else "",
                "consent_source": s.consent.get("source"),
            }


# --- the public side: double opt-in, unsubscribe, preferences -------------------------------


def request_subscription(
    settings: Settings,
    engine: Engine,
    email: str,
    *,
    name: str | None,
    topics: Sequence[str] | None,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> Subscriber | None:
    """A subscribe form was posted: email a confirmation link. Returns the subscriber to
    write to, or None when nothing is to be sent (already active). The caller answers the
    same whatever happened, so the list's members are not revealed.

    A new address becomes a pending subscriber. An address that left (unsubscribed,
    bounced, complained) is not touched until the person follows the link: the request,
    with its consent details, is only recorded as an event, which ``confirm`` applies.
    """
    now = now or utcnow()
    address = normalize_email(email)
    name = name_text(name)
    chosen = [t for t in topics or () if t in topic_slugs(settings)] or None
    request = {
        "ip": ip,
        "user_agent": user_agent,
        "consent_version": settings.subscriptions.consent_version,
        "name": name,
        "topics": chosen,
    }
    with engine.begin() as conn:
        existing = store.by_email(conn, address)
        if existing is not None and existing.status == "active":
            return None
        if existing is None:
            row = _new_row(
                address,
                name,
                tuple(chosen) if chosen else None,
                None,
                "pending",
                "form",
                now,
                settings,
                confirmed=False,
                ip=ip,
                user_agent=user_agent,
            )
            sid = store.insert_subscriber(conn, row)
        else:
            sid = existing.id
        store.add_event(conn, sid, now, "requested", "form", request)
        found = store.by_id(conn, sid)
    assert found is not None
    return found


def confirmation_link(
    settings: Settings, sub: Subscriber, secrets: Sequence[str], now: datetime
) -> str:
    expires = int((now + timedelta(days=settings.subscriptions.confirm_days)).timestamp())
    token = sign(sub.token_id, secrets, purpose="confirm", expires=expires)
    return confirm_url(settings.newsletter.base_url, token)


def send_confirmation(
    settings: Settings, sub: Subscriber, link: str, *, url: str | None = None
) -> None:
    n = settings.newsletter
    if not sub.email:
        raise BriefingError("this subscriber has no address any more (forgotten)")
    text = (
        f"Please confirm that you want to receive {n.name}.\n\n"
        f"Confirm: {link}\n\n"
        f'You asked for it with: "{settings.subscriptions.consent_text}"\n'
        f"If it was not you, ignore this email: you will not be added.\n\n{n.postal_address}\n"
    )
    notices.send(
        settings, [sub.email], f"Confirm your subscription to {n.name}", text, transport=url
    )


def confirm(
    settings: Settings,
    engine: Engine,
    token: str,
    secrets: Sequence[str],
    *,
    now: datetime | None = None,
    apply: bool = True,
) -> Subscriber | None:
    """Follow a confirmation link: a pending subscriber becomes active; one who had left
    comes back only with a link issued after they left. None if the token is not genuine,
    expired, or older than the person's unsubscribe (an old link must not undo it).
    ``apply=False``: only say who the link would confirm (the page a GET shows)."""
    now = now or utcnow()
    token_id = verify(token, secrets, purpose="confirm", now=int(now.timestamp()))
    if token_id is None:
        return None
    expires = int(token.rsplit(".", 2)[1])
    key = keyring.suppression_key(settings, engine, now=now)
    issued = datetime.fromtimestamp(expires, UTC) - timedelta(
        days=settings.subscriptions.confirm_days
    )
    with engine.begin() as conn:
        sub = store.by_token_id(conn, token_id)
        if sub is None or sub.status in ("forgotten", "active"):
            return sub if sub is not None and sub.status == "active" else None
        if sub.status != "pending" and (
            sub.unsubscribed_at is None or issued <= sub.unsubscribed_at
        ):
            return None
        if not apply:
            return sub
        # Anyone who knows an address can ask to subscribe it, under any name. The link
        # proves the mailbox, not which request it answers (one confirmation per ten
        # minutes: the owner may hold the link another's request sent). So the request
        # applied is the one the link was made for (the latest at or before its issue
        # time), and a name or topic choice that other requests since the subscriber last
        # changed state disagree with is not applied at all: nobody can make a name stick
        # against the owner's own request, at most erase it.
        since = None if sub.status == "pending" else sub.unsubscribed_at
        requests = [
            (e["at"], e["detail"] or {})
            for e in store.events(conn, sub.id)
            if e["action"] == "requested" and (since is None or e["at"] > since)
        ]
        made_for = [d for at, d in requests if at <= issued + LINK_SLACK]
        request: dict[str, Any] = made_for[-1] if made_for else {}
        wanted = {"name": name_text(request.get("name")), "topics": request.get("topics")}
        for _, other in requests:
            if name_text(other.get("name")) != wanted["name"]:
                wanted["name"] = None
            if other.get("topics") != wanted["topics"]:
                wanted["topics"] = None
        consent = {
            "consent_source": "form",
            "consent_at": now,
            "consent_ip": request.get("ip"),
            "consent_user_agent": request.get("user_agent"),
            "consent_version": request.get("consent_version")
            or settings.subscriptions.consent_version,
        }
        changes: dict[str, Any] = {
            "status": "active",
            "confirmed_at": now,
            "unsubscribed_at": None,
            "unsubscribe_reason": None,
            "paused": False,
            **consent,
        }
        if sub.status != "pending":  # returning: their new request decides name and topics
            changes.update(name=wanted["name"] or sub.name, topics=wanted["topics"])
        elif request:  # pending: the confirmed request decides, not whoever asked first
            changes.update(**wanted)
        store.update_subscriber(conn, sub.id, now, **changes)
        if sub.email:  # their own confirmed opt-in lifts an earlier suppression
            store.unsuppress(conn, sub.email, key)
        store.add_event(
            conn, sub.id, now, "confirmed", "link", {"returning": sub.status != "pending"}
        )
        return store.by_id(conn, sub.id)


def subscriber_for(engine: Engine, token: str, secrets: Sequence[str]) -> Subscriber | None:
    token_id = verify(token, secrets)
    if token_id is None:
        return None
    with engine.connect() as conn:
        sub = store.by_token_id(conn, token_id)
    return sub if sub is not None and sub.status != "forgotten" else None


def set_preferences(
    engine: Engine,
    sub: Subscriber,
    *,
    topics: Sequence[str] | None,
    paused: bool,
    known: Sequence[str],
    now: datetime | None = None,
) -> Subscriber:
    now = now or utcnow()
    chosen = [t for t in topics or () if t in known]
    value = None if topics is None or set(chosen) == set(known) else chosen
    with engine.begin() as conn:
        store.update_subscriber(conn, sub.id, now, topics=value, paused=paused)
        store.add_event(
            conn, sub.id, now, "preferences", "page", {"topics": value, "paused": paused}
        )
        found = store.by_id(conn, sub.id)
    assert found is not None
    return found


def recipients(
    engine: Engine, topics: set[str], *, chose_topics: bool = False
) -> Iterator[Subscriber]:
    """Who receives an issue covering ``topics``: active, not paused, wanting one of them.
    ``chose_topics``: only those who picked topics (everyone else receives every issue)."""
    with engine.connect() as conn:
        for sub in store.iterate(conn, status="active", chose_topics=chose_topics):
            if sub.receives(topics):
                yield sub


def list_subscribers(engine: Engine, *, status: str | None = None) -> list[Subscriber]:
    """Every subscriber with an address (forgotten people are not listed), by id."""
    with engine.connect() as conn:
        return list(store.iterate(conn, status=status))


def get(engine: Engine, email: str) -> Subscriber:
    with engine.connect() as conn:
        return store.get(conn, normalize_email(email))


def history(engine: Engine, sub: Subscriber) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return store.events(conn, sub.id)
