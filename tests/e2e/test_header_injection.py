"""Header injection, tried as an attacker would: a name with CR/LF (and other control
characters) through every door: `subscribers add`, a quoted CSV field, `POST /subscribe`
over real HTTP, `editors add --name`, `briefing edit`, a seed's front matter. Each is
cleaned where it enters, and the email that goes out has exactly its own headers.

Also: a second, unauthenticated request for a pending address cannot make its name stick;
the owner's confirmation keeps the name of the request they confirmed.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import subscriptions
from briefing.store import articles as article_store
from briefing.store import issues as issue_store
from briefing.store import subscribers as sub_store
from briefing.store.db import open_engine
from briefing.store.editors_schema import editors
from briefing.store.subscribers_schema import subscriber_events, subscribers
from briefing.web.app import create_app

REPO = Path(__file__).parent.parent.parent
SECRET = "header-injection-" + "s" * 24
EVIL = "Eve\r\nBcc: victim@evil.example"
# every control character class the entry points must drop: C0, DEL, C1, U+2028/2029, tab
NASTY = "A\x00n\x07n\x1b\x7f\x85\u2028\u2029\tSmith\r\nReply-To: evil@evil.example"
HEADERS = Counter(
    [
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Feedback-ID",
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
    ]
)
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class Place:
    root: Path
    db: str
    settings: Settings
    engine: Engine
    capsys: pytest.CaptureFixture[str]

    def cli(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(["--config", str(self.root / "briefing.toml"), "--db", self.db, *args])
        out, err = self.capsys.readouterr()
        return int(done.value.code or 0), out, err

    def name_of(self, email: str) -> str | None:
        with self.engine.connect() as conn:
            found = sub_store.by_email(conn, email)
        assert found is not None, email
        return found.name

    def send_to_outbox(self) -> list[Any]:
        """Draft, approve and send into outbox://ROOT/out; the messages, parsed."""
        issue = editorial.draft(self.settings, self.engine)
        editorial.approve(self.engine, issue.id, by="Ed")
        code, _, err = self.cli("send", str(issue.id), "--transport", f"outbox://{self.root}/out")
        assert code == 0, err
        return [
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((self.root / "out" / "new").glob("*.eml"))
        ]


@pytest.fixture
def place(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> Iterator[Place]:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    shutil.copy(REPO / "briefing.toml", tmp_path / "briefing.toml")
    db = database_url
    settings = load_settings(tmp_path / "briefing.toml", overrides={"storage": {"url": db}})
    engine = open_engine(settings.database_url)
    pipeline.ingest(settings, engine, seeds_dir=tmp_path / "seeds", only_given=True)
    yield Place(tmp_path, db, settings, engine, capsys)
    engine.dispose()


def assert_only_its_own_headers(msg: Any, email: str) -> None:
    names = Counter(msg.keys())
    names.pop("X-Briefing-AI-Content", None)
    assert names == HEADERS, names
    assert "Bcc" not in msg and msg["Reply-To"] == "editors@example.org"
    to = msg["To"]
    assert len(to.addresses) == 1 and to.addresses[0].addr_spec == email
    assert not CONTROL.search(str(to)), repr(str(to))


def test_a_name_with_crlf_from_subscribers_add_cannot_add_headers(place: Place) -> None:
    code, _, err = place.cli("subscribers", "add", "eve@example.org", "--name", EVIL)
    assert code == 0, err
    assert place.name_of("eve@example.org") == "Eve Bcc: victim@evil.example"
    code, _, err = place.cli("subscribers", "add", "ann@example.org", "--name", NASTY)
    assert code == 0, err
    assert place.name_of("ann@example.org") == "Ann Smith Reply-To: evil@evil.example"
    code, _, err = place.cli("subscribers", "add", "long@example.org", "--name", "x" * 5000)
    assert code == 0, err
    assert place.name_of("long@example.org") == "x" * 200  # names are capped at 200
    sent = place.send_to_outbox()
    assert len(sent) == 3
    for msg in sent:
        assert_only_its_own_headers(msg, msg["To"].addresses[0].addr_spec)
    by_address = {m["To"].addresses[0].addr_spec: m for m in sent}
    assert by_address["eve@example.org"]["To"].addresses[0].display_name == (
        "Eve Bcc: victim@evil.example"
    )


def test_a_quoted_csv_field_with_crlf_cannot_add_headers(place: Place) -> None:
    (place.root / "list.csv").write_bytes(
        b'email,name\r\neve@example.org,"Eve\r\nBcc: victim@evil.example"\r\n'
        + 'zed@example.org,"Zed\x85\u2028\x1fBcc: x@evil.example\x00"\r\n'.encode()
        + b"ann@example.org,Ann\r\n"
    )
    code, _, err = place.cli("subscribers", "import", str(place.root / "list.csv"))
    assert code == 0, err
    assert "line 2" in " ".join(err.split()), err  # a line break in a field: that row is bad
    with place.engine.connect() as conn:
        assert sub_store.by_email(conn, "eve@example.org") is None
    # other line-breaking and control characters inside a field are cleaned away
    assert place.name_of("zed@example.org") == "Zed Bcc: x@evil.example"
    sent = place.send_to_outbox()
    assert len(sent) == 2
    for msg in sent:
        assert_only_its_own_headers(msg, msg["To"].addresses[0].addr_spec)


def test_editor_fields_lose_control_characters(place: Place) -> None:
    issue = editorial.draft(place.settings, place.engine)
    code, _, err = place.cli(
        "edit",
        str(issue.id),
        "--subject",
        "Weekly\r\nBcc: victim@evil.example\x00\u2028" + "s" * 400,
        "--preheader",
        "Pre\x07header\r\nX-Evil: 1",
        "--note",
        "First line\r\nsecond\x00 line\x85",
        "--by",
        "Ed",
    )
    assert code == 0, err
    with place.engine.connect() as conn:
        stored = issue_store.get_issue(conn, issue.id)
    assert stored.subject.startswith("Weekly Bcc: victim@evil.example s")
    assert len(stored.subject) == 250 and not CONTROL.search(stored.subject)
    assert stored.preheader == "Preheader X-Evil: 1"
    assert stored.editor_note == "First line\nsecond line"  # a note may keep its line breaks

    from briefing.services import accounts

    accounts.add(place.engine, "ed@example.org", "a-long-enough-password", name=EVIL)
    with place.engine.connect() as conn:
        assert conn.execute(select(editors.c.name)).scalar_one() == "Eve Bcc: victim@evil.example"


def test_editors_add_name_from_the_cli_is_cleaned(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-password\n"))
    code, _, err = place.cli(
        "editors", "add", "ed@example.org", "--name", NASTY, "--password-stdin"
    )
    assert code == 0, err
    with place.engine.connect() as conn:
        assert conn.execute(select(editors.c.name)).scalar_one() == (
            "Ann Smith Reply-To: evil@evil.example"
        )


def test_seed_front_matter_cannot_put_control_characters_in_a_subject(place: Place) -> None:
    seeds = place.root / "evil-seeds"
    seeds.mkdir()
    (seeds / "evil.txt").write_text(
        '+++\ntitle = "Japan and North Korea\\r\\nBcc: victim@evil.example"\n'
        'publisher = "Evil\\u0085News\\r\\nX-Evil: 1"\nauthor = "Mal\\u2028Lory\\u0000"\n+++\n'
        + "Japan's defense ministry said North Korea fired a missile toward the sea. "
        * 12,
        encoding="utf-8",
    )
    pipeline.ingest(place.settings, place.engine, seeds_dir=seeds, only_given=True)
    with place.engine.connect() as conn:
        found = [a for a in article_store.list_articles(conn) if a.source.endswith("evil.txt")]
    assert len(found) == 1, found
    art = found[0]
    assert art.title == "Japan and North Korea Bcc: victim@evil.example"
    assert art.publisher == "Evil News X-Evil: 1"
    assert art.author == "Mal Lory"


def test_post_subscribe_cleans_the_name_it_stores(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    place: Place,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = place.settings.model_copy(
        update={"newsletter": place.settings.newsletter.model_copy(update={"base_url": url})}
    )
    asgi_server.start(create_app(settings, place.engine, delivery_url=smtp_server.url), port=port)
    with httpx.Client(base_url=url, timeout=10) as client:
        page = client.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        answer = client.post(
            "/subscribe",
            data={
                "email": "eve@example.org",
                "name": EVIL + "\x00\u2028\x85" + "y" * 150,
                "consent": "yes",
                "csrf_token": token.group(1),
            },
        )
    assert answer.status_code == 200, answer.text
    smtp_server.wait_for(1)  # the confirmation went out: the request was applied
    name = place.name_of("eve@example.org")
    assert name == "Eve Bcc: victim@evil.example " + "y" * 150
    with place.engine.connect() as conn:
        details = [
            r.detail
            for r in conn.execute(select(subscriber_events.c.detail, subscriber_events.c.action))
            if r.action == "requested"
        ]
    assert [d["name"] for d in details] == [name]
    (mail,) = smtp_server.messages
    assert "Bcc" not in mail.message()  # the confirmation email carries no name at all


# --- a pending address: whose name sticks ------------------------------------------------------


def _confirm(place: Place, email: str, at: datetime) -> None:
    with place.engine.connect() as conn:
        sub = sub_store.by_email(conn, email)
    assert sub is not None
    secrets = place.settings.secrets()
    link = subscriptions.confirmation_link(place.settings, sub, secrets, at)
    token = link.rsplit("/", 1)[1]
    assert subscriptions.confirm(place.settings, place.engine, token, secrets, now=at) is not None


def _request(place: Place, email: str, name: str, at: datetime) -> None:
    subscriptions.request_subscription(
        place.settings,
        place.engine,
        email,
        name=name,
        topics=None,
        ip="203.0.113.9",
        user_agent="test",
        now=at,
    )


# after anything the fixtures did: a returning subscriber's link must be newer than their leaving
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def test_a_single_request_names_the_subscriber_it_confirms(place: Place) -> None:
    _request(place, "owner@example.org", "Olivia Owner", T0)
    _request(place, "owner@example.org", "Olivia Owner", T0 + timedelta(minutes=20))  # again
    _confirm(place, "owner@example.org", T0)
    assert place.name_of("owner@example.org") == "Olivia Owner"


def test_an_attackers_earlier_request_does_not_name_the_owner(place: Place) -> None:
    _request(place, "owner@example.org", "Mallory was here", T0)
    _request(place, "owner@example.org", "Olivia Owner", T0 + timedelta(minutes=20))
    # the owner follows the link from the email their own request sent
    _confirm(place, "owner@example.org", T0 + timedelta(minutes=20))
    assert place.name_of("owner@example.org") is None  # the requests disagree: no name


def test_the_owner_holding_the_link_an_attacker_triggered_gets_no_attacker_name(
    place: Place,
) -> None:
    # one confirmation per ten minutes: the owner's own request (5 minutes later) is not
    # mailed, and the only link in their inbox was made for the attacker's request
    _request(place, "owner@example.org", "Mallory was here", T0)
    _request(place, "owner@example.org", "Olivia Owner", T0 + timedelta(minutes=5))
    _confirm(place, "owner@example.org", T0)
    assert place.name_of("owner@example.org") is None


def test_an_attackers_later_request_does_not_rename_a_pending_owner(place: Place) -> None:
    _request(place, "owner@example.org", "Olivia Owner", T0)
    _request(place, "owner@example.org", "Mallory was here", T0 + timedelta(minutes=20))
    assert place.name_of("owner@example.org") == "Olivia Owner"  # a request changes no row
    # whichever link the owner follows, the attacker's name does not stick
    for at in (T0, T0 + timedelta(minutes=20)):
        with place.engine.begin() as conn:
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email == "owner@example.org")
                .values(status="pending", confirmed_at=None, name="Olivia Owner")
            )
        _confirm(place, "owner@example.org", at)
        assert place.name_of("owner@example.org") is None
    with place.engine.connect() as conn:
        status = conn.execute(
            select(subscribers.c.status).where(subscribers.c.email == "owner@example.org")
        ).scalar_one()
    assert status == "active"


def test_a_later_request_does_not_rename_a_returning_subscriber(place: Place) -> None:
    code, _, err = place.cli("subscribers", "add", "owner@example.org", "--name", "Olivia Owner")
    assert code == 0, err
    code, _, err = place.cli("subscribers", "remove", "owner@example.org")
    assert code == 0, err
    _request(place, "owner@example.org", "Olivia Owner", T0)
    _request(place, "owner@example.org", "Mallory was here", T0 + timedelta(minutes=20))
    _confirm(place, "owner@example.org", T0)  # the link from the owner's own request
    assert place.name_of("owner@example.org") == "Olivia Owner"  # the name they had
