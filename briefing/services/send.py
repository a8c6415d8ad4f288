"""Composition for `briefing send`: checks, the recipient snapshot, the run, the end.

Only an approved issue is sent (``force`` approves it on the spot, and records that).
A sent issue is never sent again. Starting a send moves the issue to `sending` and
queues every recipient once (streamed in batches: the list is never held in memory);
running `send` again resumes where the last run stopped.

This is the only caller of the send engine (deliver.engine.deliver): it hands the engine
the issue's outbox as a store.outbox_queue.DatabaseOutbox, so the engine itself never
imports the store.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.compose import compose
from briefing.deliver.engine import deliver
from briefing.deliver.message import Recipient
from briefing.deliver.options import SendOptions, SendSummary, Stop
from briefing.deliver.transports import Transport, open_transport
from briefing.errors import BriefingError
from briefing.models import Issue
from briefing.render import render_issue
from briefing.services import issues as editorial
from briefing.services import keyring, subscriptions
from briefing.services.sendrun import all_refused, issue_message, mark_sent_if_done, resume
from briefing.store import issues as issue_store
from briefing.store import outbox as store
from briefing.store.outbox_queue import DatabaseOutbox
from briefing.store.retry import retry_on_conflict
from briefing.tokens import manage_links

POPULATE_BATCH = 1000


class SendRefused(BriefingError):
    """An issue that cannot be sent now. The hints are neutral: cli/words.py words them
    for the terminal."""

    default_hint = "see each issue's state in the list of issues"


class NothingApproved(SendRefused):
    default_hint = "approve an issue first"

    def __init__(self) -> None:
        super().__init__("no issue is approved for sending")


class IssueClosed(SendRefused):
    default_hint = "build a new draft"

    def __init__(self, issue_id: int, state: str) -> None:
        super().__init__(f"issue {issue_id} is {state}")
        self.issue_id, self.state = issue_id, state


class IssueNotApproved(SendRefused):
    default_hint = "approve it first (or send it with force)"

    def __init__(self, issue_id: int) -> None:
        super().__init__(f"issue {issue_id} is a draft, not approved")
        self.issue_id = issue_id


@dataclass(frozen=True)
class Planned:
    email: str
    subject: str


# the queued subscribers' timezones (None: no timezone) -> when each one's rows are due
ReleaseTimes = Callable[[list[str | None]], dict[str | None, datetime]]


def options_from(
    settings: Settings, *, transport: str | None, workers: int | None, rate: float | None
) -> SendOptions:
    d = settings.delivery
    return SendOptions(
        transport_url=transport or d.url,
        workers=workers or d.workers,
        rate_per_second=rate or d.rate_per_second,
        rate_per_hour=d.rate_per_hour,
        resend_ambiguous=d.resend_ambiguous,
        max_error_rate=d.max_error_rate,
    )


def _this_machine(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def links_problem(settings: Settings, transport_url: str) -> str | None:
    """Why the links in a message sent over ``transport_url`` would not work for the people
    who get it (base_url is http://, or this machine), or None. outbox:// keeps any."""
    if urlsplit(transport_url).scheme not in ("smtp", "smtps"):
        return None
    base = settings.newsletter.base_url
    parts = urlsplit(base)
    if parts.scheme != "https":
        return f"newsletter.base_url {base} is not https"
    if _this_machine(parts.hostname or ""):
        return f"newsletter.base_url {base} points at this machine"
    return None


def check_links(settings: Settings, transport_url: str) -> None:
    """A real send (smtp://, smtps://) puts links in front of people: refuse one whose
    base_url cannot work for them."""
    problem = links_problem(settings, transport_url)
    if problem is None:
        return
    raise SendRefused(
        f"{problem}: the unsubscribe, preferences and archive "
        f"links in the emails to {urlsplit(transport_url).hostname} would not work for the "
        "people who get them",
        "set newsletter.base_url to the public https:// address where `briefing serve` is "
        "reached (in briefing.toml, or BRIEFING_NEWSLETTER_BASE_URL), and run from the "
        "newsletter's folder or pass --config; outbox:// and --dry-run take any base_url",
    )


def preflight(
    settings: Settings,
    engine: Engine,
    transport_url: str,
    *,
    accept_new_secret: bool = False,
    now: datetime | None = None,
    connect: Callable[[], Transport] | None = None,
) -> list[str]:
    """What a send checks before it touches the outbox: links that work, a transport that
    can take messages (an outbox folder that can be written), and the signing key that
    signed the links already sent (keyring.check_signing). Returns warnings."""
    check_links(settings, transport_url)
    check_transport(settings, transport_url, connect)  # before anything moves or is queued
    return keyring.check_signing(settings, engine, accept_new=accept_new_secret, now=now)


def pick_issue(engine: Engine, ref: str | None, *, force: bool = False) -> Issue:
    """The named issue, else the one being sent, else the approved one (with ``force``,
    else the open draft)."""
    if ref:
        return editorial.resolve_issue(engine, ref)
    with engine.connect() as conn:
        listed = issue_store.list_issues(conn)
    for wanted in ("sending", "approved", *(("draft",) if force else ())):
        for issue in listed:
            if issue.state == wanted:
                return issue
    raise NothingApproved()


def _topics(issue: Issue) -> set[str]:
    return {s.topic for s in issue.included}


def dry_run(engine: Engine, issue: Issue) -> Iterator[Planned]:
    for sub in subscriptions.recipients(engine, _topics(issue)):
        if sub.email:
            yield Planned(sub.email, issue.subject)


def prepare(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    *,
    force: bool,
    actor: str,
    now: datetime | None = None,
    release_times: ReleaseTimes | None = None,
) -> Issue:
    """Check the issue may be sent, move it to `sending`, queue its recipients.
    ``release_times`` (per-subscriber local send times): given the queued subscribers'
    timezones, when each one's rows are due; they are held until then."""
    now = now or utcnow()
    if issue.state == "sent":
        raise SendRefused(
            f"issue {issue.id} was sent on {issue.sent_at:%Y-%m-%d %H:%M} UTC; it is never sent twice"
        )
    if issue.state in ("cancelled", "expired"):
        raise IssueClosed(issue.id, issue.state)
    if issue.state == "draft":
        if not force:
            raise IssueNotApproved(issue.id)
        issue = editorial.approve(engine, issue.id, by=f"{actor} (send --force)", now=now)
    if not issue.included:
        raise SendRefused(f"issue {issue.id} has no stories")
    # Several senders (processes, machines) may start on one issue at once: the moves
    # below tolerate losing a race to another sender doing the same thing.
    if issue.state == "approved":
        try:
            with engine.begin() as conn:
                issue_store.set_state(conn, issue.id, "sending", now=now, actor=actor)
        except BriefingError:
            with engine.connect() as conn:
                if issue_store.get_issue(conn, issue.id).state != "sending":
                    raise
    try:
        with engine.begin() as conn:
            store.start_run(conn, issue.id, now)
    except IntegrityError:
        pass  # another sender started the run
    with engine.connect() as conn:
        ready = (store.run(conn, issue.id) or {}).get("recipients_ready_at")
    if ready is None:

        def queue_all_topics() -> None:
            with engine.begin() as conn:
                store.populate_all_topics(conn, issue.id, now)

        retry_on_conflict(queue_all_topics)
        batch: list[int] = []
        for sub in subscriptions.recipients(engine, _topics(issue), chose_topics=True):
            if sub.topics is None:
                continue  # queued above
            batch.append(sub.id)
            if len(batch) >= POPULATE_BATCH:
                _populate(engine, issue.id, batch, now)
                batch = []
        _populate(engine, issue.id, batch, now)
        with engine.begin() as conn:
            if release_times is not None:
                zones = store.subscriber_timezones(conn, issue.id)
                store.set_release_times(conn, issue.id, release_times(zones))
            store.mark_ready(conn, issue.id, now)
    with engine.connect() as conn:
        return issue_store.get_issue(conn, issue.id)


def check_transport(
    settings: Settings, url: str, connect: Callable[[], Transport] | None = None
) -> None:
    """DeliveryError now, in this process, when the transport cannot work at all (an outbox
    folder that cannot be written), rather than in every sender once the send started."""
    channel = connect() if connect is not None else open_transport(url, settings)
    try:
        channel.check()
    finally:
        channel.close()


def _populate(engine: Engine, issue_id: int, batch: list[int], now: datetime) -> None:
    """Queue a batch; if another sender queued some of it meanwhile, queue the rest."""

    def queue() -> None:
        with engine.begin() as conn:
            store.populate(conn, issue_id, batch, now)

    retry_on_conflict(queue)


def send(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    options: SendOptions,
    *,
    actor: str = "cli",
    force: bool = False,
    progress: Callable[[dict[str, int]], None] | None = None,
    now: datetime | None = None,
    stop: Stop | None = None,
    release_times: ReleaseTimes | None = None,
    connect: Callable[[], Transport] | None = None,
    lift_operator_pause: bool = True,
) -> SendSummary:
    """Send (or resume sending) an approved issue. Returns what happened. ``stop``: see
    deliver(); ``release_times``: see prepare(); ``connect``: opens a worker's transport
    instead of ``options.transport_url`` (tests: a MemoryTransport). Refused before anything is queued when
    preflight() finds a problem. A pause is lifted, an operator's only with
    ``lift_operator_pause`` (the scheduler leaves it: the summary says paused)."""
    now = now or utcnow()
    preflight(settings, engine, options.transport_url, now=now, connect=connect)
    issue = prepare(
        settings, engine, issue, force=force, actor=actor, now=now, release_times=release_times
    )
    left = resume(engine, issue.id, now, lift_operator=lift_operator_pause)
    if left is not None:
        with engine.connect() as conn:
            counts = store.counts(conn, issue.id)
        return SendSummary(issue.id, counts=counts, paused=left, paused_elsewhere=True)
    message = issue_message(settings, engine, issue, now)
    summary = deliver(
        settings,
        DatabaseOutbox(engine),
        issue.id,
        message,
        options,
        progress=progress,
        stop=stop,
        connect=connect,
    )
    if summary.finished and summary.counts["sent"] == 0 and summary.counts["failed"] > 0:
        summary.finished = False
        summary.paused = all_refused(summary.counts)
    if summary.paused and not summary.paused_elsewhere:
        with engine.begin() as conn:
            store.set_paused(conn, issue.id, summary.paused)
    if summary.finished:
        mark_sent_if_done(settings, engine, issue.id, actor)
    return summary


def counts(engine: Engine, issue_id: int) -> dict[str, int]:
    """An issue's outbox rows per state (queued, sending, sent, deferred, failed, skipped)."""
    with engine.connect() as conn:
        return store.counts(conn, issue_id)


def failures(engine: Engine, issue_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The issue's failed and deferred rows: email, state, last_code, last_error."""
    with engine.connect() as conn:
        return store.failures(conn, issue_id, limit)


def send_test(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    to: str,
    *,
    transport: str | None,
    now: datetime | None = None,
    planned: str | None = None,
) -> str:
    """A proof of any issue to one address; the outbox is not touched. Its top says it
    is a proof and, for a draft, how to approve it."""
    now = now or utcnow()
    from briefing.email_address import normalize_email

    address = normalize_email(to)
    view = editorial.view(settings, engine, issue)
    templates = settings.path(settings.issue.templates) if settings.issue.templates else None
    proof = {
        "cli": f"briefing approve {issue.id} --by 'YOUR NAME'" if issue.state == "draft" else None,
        "desk_url": f"{settings.newsletter.base_url}/desk/issues/{issue.id}",
        "planned": planned,
    }
    rendered = render_issue(view, settings, now=now, templates=templates, proof=proof)
    rendered = replace(rendered, subject=f"[Proof] {rendered.subject}")
    unsubscribe, preferences, token = manage_links(
        settings.newsletter.base_url, "proof", settings.secrets()
    )
    data = compose(rendered, settings, issue_id=issue.id, date=now).for_recipient(
        Recipient(
            email=address,
            name=None,
            unsubscribe_url=unsubscribe,
            preferences_url=preferences,
            token=token,
        ),
        f"proof{int(now.timestamp())}",
    )
    from email.utils import parseaddr

    channel = open_transport(transport or settings.delivery.url, settings)
    try:
        channel.send(parseaddr(settings.newsletter.sender)[1], address, data)
    finally:
        channel.close()
    return address
