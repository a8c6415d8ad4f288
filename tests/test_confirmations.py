"""The subscribe queue (briefing.services.confirmations) and the desk's sign-in throttle
(briefing.services.signins) on a real database (a SQLite file, or PostgreSQL under
--backend postgresql), with a real SMTP server (aiosmtpd), passes run at chosen moments:
at most one confirmation per address per 10 minutes, retries with backoff until the mail
server answers, giving up after a day, and the account throttle opening again once its
window has passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from briefing.config import Settings, load_settings
from briefing.services import confirmations, signins, subscriptions
from briefing.store import subscribers as store
from briefing.store.db import open_engine
from briefing.store.web_schema import subscribe_queue

REPO = Path(__file__).parent.parent
SECRET = "confirmations-secret-" + "q" * 24
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(database_url: str) -> Iterator[tuple[Settings, Engine]]:
    settings = load_settings(
        REPO / "briefing.toml",
        env={"BRIEFING_SECRET": SECRET},
        overrides={"storage": {"url": database_url}},
    )
    engine = open_engine(settings.database_url)
    yield settings, engine
    engine.dispose()


def ask(engine: Engine, email: str, at: datetime, name: str | None = None) -> None:
    confirmations.enqueue(
        engine, email=email, name=name, topics=None, ip="192.0.2.1", user_agent="UA", now=at
    )


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(select(subscribe_queue).order_by(subscribe_queue.c.id)).mappings()
        ]


def test_one_confirmation_per_address_per_ten_minutes(
    world: tuple[Settings, Engine], smtp_server: Any
) -> None:
    settings, engine = world
    worker = confirmations.ConfirmationWorker(
        settings, engine, [SECRET], delivery_url=smtp_server.url
    )
    ask(engine, "ten@example.org", T0, name="First")
    assert worker.process_due(now=T0) == 1
    ask(engine, "ten@example.org", T0 + timedelta(minutes=5), name="Second")
    assert worker.process_due(now=T0 + timedelta(minutes=5)) == 1
    assert len(smtp_server.wait_for(1)) == 1  # the second request was recorded, not mailed
    with engine.connect() as conn:
        sub = store.by_email(conn, "ten@example.org")
        assert sub is not None
        requested = [e for e in store.events(conn, sub.id) if e["action"] == "requested"]
    assert [e["detail"]["name"] for e in requested] == ["First", "Second"]

    ask(engine, "ten@example.org", T0 + timedelta(minutes=11))
    worker.process_due(now=T0 + timedelta(minutes=11))
    assert len(smtp_server.wait_for(2)) == 2  # ten minutes later, a fresh link goes out
    # another address is never held up by this one
    ask(engine, "other@example.org", T0 + timedelta(minutes=11, seconds=1))
    worker.process_due(now=T0 + timedelta(minutes=11, seconds=1))
    assert len(smtp_server.wait_for(3)) == 3
    # what is kept: no personal data, and only what the ten-minute rule needs
    assert [r["state"] for r in rows(engine)] == ["sent", "sent", "sent"]
    assert all(r["email"] is None and r["ip"] is None for r in rows(engine))
    worker.process_due(now=T0 + timedelta(days=2))
    assert rows(engine) == []


def test_an_active_address_gets_nothing_and_leaves_nothing(
    world: tuple[Settings, Engine], smtp_server: Any
) -> None:
    settings, engine = world
    subscriptions.add(settings, engine, "member@example.org")
    worker = confirmations.ConfirmationWorker(
        settings, engine, [SECRET], delivery_url=smtp_server.url
    )
    ask(engine, "member@example.org", T0)
    assert worker.process_due(now=T0) == 1
    assert rows(engine) == [] and smtp_server.messages == []


def test_retries_back_off_until_the_server_answers_then_give_up_after_a_day(
    world: tuple[Settings, Engine], free_port: Any
) -> None:
    settings, engine = world
    down = f"smtp://127.0.0.1:{free_port()}?starttls=never"  # nothing listens there
    worker = confirmations.ConfirmationWorker(
        settings, engine, [SECRET], delivery_url=down, retry_seconds=60
    )
    ask(engine, "patient@example.org", T0)
    worker.process_due(now=T0)
    (row,) = rows(engine)
    assert row["state"] == "mail" and row["attempts"] == 1
    assert row["due_at"] == T0 + timedelta(seconds=60)
    assert "patient@example.org" not in (row["last_error"] or "")
    assert worker.process_due(now=T0 + timedelta(seconds=30)) == 0  # not due yet
    worker.process_due(now=T0 + timedelta(seconds=61))
    (row,) = rows(engine)
    assert row["attempts"] == 2 and row["due_at"] == T0 + timedelta(seconds=61 + 120)
    worker.process_due(now=T0 + timedelta(days=1, minutes=1))
    (row,) = rows(engine)
    assert row["state"] == "failed" and row["email"] is None


def test_the_account_throttle_opens_again_after_its_window(
    world: tuple[Settings, Engine],
) -> None:
    _, engine = world
    for i in range(signins.ACCOUNT_FAILURES):
        assert signins.wait_seconds(engine, "Ed@Example.org", "198.51.100.1", T0) == 0
        signins.record(
            engine, "ed@example.org", "failed", ip=f"198.51.100.{i}", user_agent=None, now=T0
        )
    wait = signins.wait_seconds(engine, "ED@example.org ", "203.0.113.9", T0)
    assert wait == int(signins.WINDOW.total_seconds()) + 1
    later = T0 + signins.WINDOW + timedelta(seconds=1)
    assert signins.wait_seconds(engine, "ed@example.org", "203.0.113.9", later) == 0
