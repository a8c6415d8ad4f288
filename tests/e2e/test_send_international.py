"""International addresses and rows that cannot be sent, over real SMTP (aiosmtpd on
127.0.0.1, one server offering SMTPUTF8 and one not) and a real SQLite file.

No single row stops a send: an IDN domain goes on the wire as punycode, a non-ASCII local
part uses SMTPUTF8 (RFC 6531) when the server offers it and fails alone ("server does not
offer SMTPUTF8") when it does not; a row whose subscriber was forgotten after it was
queued is skipped; a row whose stored name would break the message fails with its reason.
Everyone else gets the issue exactly once, and the issue ends `sent`.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email import errors, message_from_string, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from briefing.config import Settings, load_settings
from briefing.deliver.options import SendOptions
from briefing.models import Issue
from briefing.services import erasure, subscriptions
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import send as sending
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store.db import open_engine
from briefing.store.outbox_schema import outbox
from briefing.store.subscribers_schema import subscribers

REPO = Path(__file__).parent.parent.parent
SECRET = "international-" + "i" * 26

# the two addresses of the issue, and what their domains are on the wire; Python's own
# (IDNA 2003) codec is the oracle here, which agrees with IDNA 2008 on these names
JOSE = "josé@bücher.example"
YONGHU = "用户@例子.广告"
ANN_IDN = "ann@bücher.example"  # an ASCII local part: punycode alone does it, no SMTPUTF8


def wire(address: str) -> str:
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.encode('idna').decode('ascii')}"


@dataclass
class World:
    root: Path
    settings: Settings
    engine: Engine
    issue: Issue
    emails: list[str]  # in the order they were queued (ids ascending)

    def rows(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(outbox, subscribers.c.email, subscribers.c.status.label("sub_status"))
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.issue_id == self.issue.id)
            ).mappings()
            return {str(r["email"]): dict(r) for r in found}

    def state(self) -> str:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, self.issue.id).state

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return outbox_store.counts(conn, self.issue.id)

    def send(self, url: str, workers: int = 1) -> Any:
        return sending.send(
            self.settings,
            self.engine,
            self.issue,
            SendOptions(transport_url=url, workers=workers, wait_for_retries=0),
        )


INTERNATIONAL = [
    (JOSE, "José Müller"),
    ("first@example.org", "First Reader"),
    (YONGHU, "用户"),
    (ANN_IDN, None),
    *((f"reader{i}@example.org", f"Reader {i}") for i in range(5)),
]
ASCII = [
    ("first@example.org", "First Reader"),
    *((f"reader{i}@example.org", f"Reader {i}") for i in range(6)),
]


def _world(tmp_path: Path, db: str, people: list[tuple[str, str | None]]) -> World:
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    settings = load_settings(
        REPO / "briefing.toml",
        overrides={"storage": {"url": db}, "newsletter": {"base_url": "https://news.example.org"}},
    )
    engine = open_engine(settings.database_url)
    pipeline.ingest(settings, engine, seeds_dir=tmp_path / "seeds", only_given=True)
    issue = editorial.approve(engine, editorial.draft(settings, engine).id, by="Ed")
    for email, name in people:
        subscriptions.add(settings, engine, email, name=name)
    with engine.connect() as conn:
        stored = [
            r[0] for r in conn.execute(select(subscribers.c.email).order_by(subscribers.c.id))
        ]
    return World(tmp_path, settings, engine, issue, stored)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[World]:
    """International addresses first (today's crash stopped everyone queued after them)."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    made = _world(tmp_path, database_url, INTERNATIONAL)
    yield made
    made.engine.dispose()


@pytest.fixture
def ascii_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Iterator[World]:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    made = _world(tmp_path, database_url, ASCII)
    yield made
    made.engine.dispose()


def parse(data: bytes) -> Any:
    """An RFC 6532 message: its headers are UTF-8 (the bytes parser would take them as
    undecodable ASCII)."""
    return message_from_string(data.decode("utf-8"), policy=policy.default)


def defects(msg: Any) -> list[Any]:
    """The parse's defects, but Python's note on every non-ASCII local part (which it
    records whatever the policy; RFC 6532 allows them)."""
    found = [*msg.defects, *msg["To"].defects]
    return [d for d in found if not isinstance(d, errors.NonASCIILocalPartDefect)]


def received(sink: Any) -> Counter[str]:
    return Counter(r for m in sink.messages for r in m.rcpt_tos)


def by_recipient(sink: Any) -> dict[str, Any]:
    return {m.rcpt_tos[0]: m for m in sink.messages}


@pytest.mark.parametrize(
    ("pipelining", "workers"),
    [(False, 1), (True, 1), (True, 2)],
    ids=["plain", "pipelining", "2-procs"],
)
def test_international_addresses_go_out_with_smtputf8_and_punycode(
    world: World, smtp_server: Any, pipelining: bool, workers: int
) -> None:
    smtp_server.pipelining = pipelining
    summary = world.send(smtp_server.url, workers)
    assert summary.paused is None and summary.finished
    assert world.state() == "sent"
    assert received(smtp_server) == Counter({wire(e): 1 for e in world.emails})
    got = by_recipient(smtp_server)
    for email in world.emails:
        mail = got[wire(email)]
        needs_utf8 = not email.split("@")[0].isascii()
        assert mail.smtp_utf8 is needs_utf8, email  # MAIL FROM ... SMTPUTF8 only when needed
        headers = mail.data.split(b"\r\n\r\n", 1)[0]
        to_line = next(line for line in headers.split(b"\r\n") if line.startswith(b"To: "))
        if needs_utf8:
            # RFC 6532: the address is UTF-8 in the header, never an encoded word
            assert wire(email).encode() in to_line and b"=?" not in to_line, to_line
        else:
            assert headers.isascii(), email
        msg = parse(mail.data)
        assert [a.addr_spec for a in msg["To"].addresses] == [wire(email)]
    jose = parse(got[wire(JOSE)].data)
    assert jose["To"].addresses[0].display_name == "José Müller"
    assert got[wire(JOSE)].rcpt_tos == ("josé@xn--bcher-kva.example",)


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_without_smtputf8_only_those_rows_fail_and_the_send_carries_on(
    world: World, ascii_smtp_server: Any, pipelining: bool
) -> None:
    ascii_smtp_server.pipelining = pipelining
    summary = world.send(ascii_smtp_server.url)
    international = {JOSE, YONGHU}
    others = [e for e in world.emails if e not in international]
    assert received(ascii_smtp_server) == Counter({wire(e): 1 for e in others})
    rows = world.rows()
    for email in international:
        assert rows[email]["state"] == "failed", rows[email]
        assert "server does not offer SMTPUTF8" in rows[email]["last_error"]
        assert rows[email]["sub_status"] == "active"  # not a bounce: the address is fine
    assert all(m.smtp_utf8 is False for m in ascii_smtp_server.messages)
    assert summary.paused is None and summary.finished
    assert world.state() == "sent"


def test_the_outbox_writes_utf8_headers_for_international_addresses(world: World) -> None:
    summary = world.send(f"outbox://{world.root}/out")
    assert summary.finished and world.state() == "sent"
    files = sorted((world.root / "out" / "new").glob("*.eml"))
    assert len(files) == len(world.emails)
    seen = set()
    for path in files:
        data = path.read_bytes()
        msg = parse(data)
        assert not defects(msg), defects(msg)
        address = msg["To"].addresses[0].addr_spec
        to_line = next(x for x in data.split(b"\r\n") if x.startswith(b"To: "))
        assert b"=?" not in to_line.split(b"<")[-1], to_line  # never an encoded word in the address
        seen.add(address)
    assert seen == {wire(e) for e in world.emails}


def test_the_confirmation_email_to_an_international_address(
    world: World, smtp_server: Any, ascii_smtp_server: Any
) -> None:
    sub = subscriptions.request_subscription(
        world.settings,
        world.engine,
        "zoë@bücher.example",
        name="Zoë",
        topics=None,
        ip=None,
        user_agent=None,
    )
    assert sub is not None
    link = subscriptions.confirmation_link(
        world.settings, sub, world.settings.secrets(), sub.created_at
    )
    subscriptions.send_confirmation(world.settings, sub, link, url=f"outbox://{world.root}/conf")
    (path,) = (world.root / "conf" / "new").glob("*.eml")
    data = path.read_bytes()
    to_line = next(x for x in data.split(b"\r\n") if x.startswith(b"To: "))
    assert to_line == "To: zoë@xn--bcher-kva.example".encode(), to_line
    msg = parse(data)
    assert msg["To"].addresses[0].addr_spec == "zoë@xn--bcher-kva.example"
    assert not defects(msg) and "Confirm your subscription" in msg["Subject"]

    subscriptions.send_confirmation(world.settings, sub, link, url=smtp_server.url)
    (mail,) = smtp_server.messages
    assert mail.smtp_utf8 and mail.rcpt_tos == ("zoë@xn--bcher-kva.example",)

    from briefing.errors import BriefingError

    with pytest.raises(BriefingError, match="server does not offer SMTPUTF8"):
        subscriptions.send_confirmation(world.settings, sub, link, url=ascii_smtp_server.url)


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_a_subscriber_forgotten_after_queueing_is_skipped(
    ascii_world: World, smtp_server: Any, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    sending.prepare(
        ascii_world.settings, ascii_world.engine, ascii_world.issue, force=False, actor="test"
    )
    erasure.forget(ascii_world.settings, ascii_world.engine, "first@example.org")
    summary = ascii_world.send(smtp_server.url)
    assert summary.finished and ascii_world.state() == "sent"
    assert "none" not in smtp_server.rcpt_count and "None" not in smtp_server.rcpt_count
    others = [e for e in ascii_world.emails if e != "first@example.org"]
    assert received(smtp_server) == Counter({wire(e): 1 for e in others})
    assert ascii_world.counts()["skipped"] == 1


@pytest.mark.parametrize("workers", [1, 2], ids=["thread", "2-procs"])
def test_a_row_that_cannot_be_composed_fails_alone(
    ascii_world: World, smtp_server: Any, workers: int
) -> None:
    # a name stored by an older version or another tool, never cleaned: the composer
    # refuses it, that one row fails with the reason, and the send goes on
    with ascii_world.engine.begin() as conn:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.email == "reader1@example.org")
            .values(name="Eve\r\nBcc: victim@evil.example")
        )
    summary = ascii_world.send(smtp_server.url, workers)
    others = [e for e in ascii_world.emails if e != "reader1@example.org"]
    assert received(smtp_server) == Counter({wire(e): 1 for e in others})
    row = ascii_world.rows()["reader1@example.org"]
    assert row["state"] == "failed" and "CR or LF" in row["last_error"], row
    assert summary.paused is None and summary.finished
    assert ascii_world.state() == "sent"
    assert not any(b"Bcc:" in m.data for m in smtp_server.messages)


def test_the_send_report_words_a_failed_row_without_none(
    world: World,
    ascii_smtp_server: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row refused before the server answered has no SMTP code: the report says what
    happened, not "None"."""
    from briefing.cli import main

    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", "https://news.example.org")
    config = world.root / "briefing.toml"
    shutil.copy(REPO / "briefing.toml", config)
    env_db = str(world.settings.database_url)
    try:
        main(["--config", str(config), "--db", env_db, "send", str(world.issue.id),
              "--transport", ascii_smtp_server.url])  # fmt: skip
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "server does not offer SMTPUTF8" in err and "None" not in err, err
