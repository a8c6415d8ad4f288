"""Who receives an issue: the one rule, in SQL, for every statement of the store.

The rule (models.Subscriber.receives is the same rule in Python, for one subscriber):

    reachable  = status 'active' AND not paused AND an address (not NULL, not empty)
    receives   = reachable AND (no topic choice (every topic) OR a chosen topic is in the issue)

In SQL the topic half is only ever asked as "takes every topic" (``takes_every_issue``):
queueing an issue puts those in with one statement, and the subscribers who chose topics
are matched in Python (services.subscriptions.recipients, with Subscriber.receives).
Once a row is queued, each message checks ``reachable`` again, on the raw DB-API hot
path (``reachable_sql``, the same expression compiled for the dialect), so someone who
left or paused after the queueing gets nothing.

Equivalences (tests/test_recipients.py checks them on a table of cases):
    reachable(row)          == Subscriber.reachable
    takes_every_issue(row)  == Subscriber.reachable and Subscriber.topics is None
                            == Subscriber.receives(T) for every topic set T
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_

from briefing.store.subscribers_schema import subscribers, takes_every_topic


def reachable() -> ColumnElement[bool]:
    """Active, not paused, with an address: may be sent any issue they take."""
    return and_(
        subscribers.c.status == "active",
        subscribers.c.paused.is_(False),
        subscribers.c.email.is_not(None),
        subscribers.c.email != "",
    )


def takes_every_issue() -> ColumnElement[bool]:
    """Reachable and no topic choice: receives every issue, whatever its topics."""
    return and_(reachable(), takes_every_topic())


def reachable_sql(dialect: Any) -> str:
    """``reachable()`` as SQL text for ``dialect`` (no parameters), for statements run
    on the DB-API connection; it names the table ``subscribers``."""
    return str(reachable().compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
