#!/usr/bin/env python3
"""Benchmark: a 20-story issue delivered by `briefing send` to Postfix's smtp-sink, against
Postfix's smtp-source (C) sending as many messages of the same size over as many
connections to the same sink, in the same run.

Last line, one JSON object:
  {"subscribers": N, "briefing_msgs_per_s": X, "smtp_source_msgs_per_s": Y, "ratio": X/Y,
   "peak_rss_mb": Z, "database": "sqlite" | "postgresql",
   "sender_rss_mb": the sending process's peak, "worker_rss_mb": its largest worker's,
   "db_client_s": the wall time of every statement and commit the send made (timed at the
   cursor, scripts/_statement_timing.py), "db_calls": how many,
   "db_server_s": PostgreSQL's own execution time for them (pg_stat_statements; null
   where it is not loaded, and on SQLite, whose time is all client time),
   "db_top": the statements taking most of that time, "cpu_s": CPU seconds per process
   group during the send (briefing, the database server, the sink) and smtp-source's run}
Targets: ratio >= 0.7; peak RSS at 100,000 subscribers within 1.2x of that at 20,000.
X is measured over the whole `briefing send` command (start-up, rendering, queueing the
recipients and delivery); the delivery phase alone is printed too.

Usage: .venv/bin/python scripts/bench_send.py [--subscribers 20000] [--workers 2]
Needs Postfix's tools (scripts/install_bench_tools.sh installs them; run as root).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
PYTHON = REPO / ".venv" / "bin" / "python"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"error: nothing listening on 127.0.0.1:{port}")


def sink(port: int) -> subprocess.Popen[bytes]:
    cmd = [
        shutil.which("smtp-sink") or "/usr/sbin/smtp-sink",
        "-u",
        "nobody",
        f"127.0.0.1:{port}",
        "1000",
    ]
    if os.geteuid() != 0:
        cmd = cmd[:1] + cmd[3:]  # -u is for root only
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def cpu_of(pid: int, *, children: bool = False) -> float:
    """CPU seconds (user + system) of a running process; ``children``: with its reaped
    children's and those still running (a PostgreSQL postmaster and its backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                rest = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[1]) == pid:
                ticks += int(rest[11]) + int(rest[12])
    return ticks / TICK


class ServerStatements:
    """pg_stat_statements in the benchmark's database, when the server loads it."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, text

        self.text = text
        self.engine = create_engine(url)
        try:
            with self.engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                conn.execute(text("SELECT count(*) FROM pg_stat_statements"))
            self.available = True
        except Exception as exc:  # not in shared_preload_libraries, or no right to create it
            print(f"pg_stat_statements unavailable: {str(exc).splitlines()[0]}", file=sys.stderr)
            self.available = False

    def reset(self) -> None:
        if self.available:
            with self.engine.begin() as conn:
                conn.execute(self.text("SELECT pg_stat_statements_reset()"))

    def read(self) -> list[dict[str, Any]]:
        if not self.available:
            return []
        with self.engine.begin() as conn:
            rows = conn.execute(
                self.text(
                    "SELECT query, calls, total_exec_time, total_plan_time FROM pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC"
                )
            ).all()
        return [
            {
                "sql": " ".join(r.query.split()),
                "calls": int(r.calls),
                "seconds": (r.total_exec_time + r.total_plan_time) / 1000,
            }
            for r in rows
        ]

    def close(self) -> None:
        self.engine.dispose()


def build_world(
    folder: Path, subscribers: int, stories: int, db_url: str | None = None
) -> tuple[Path, str, int]:
    """A config, a database with `stories` articles in the first topic, an approved issue
    and `subscribers` active subscribers."""
    sys.path.insert(0, str(REPO))
    from sqlalchemy import insert

    from briefing.config import load_settings
    from briefing.models import Article
    from briefing.services import issues as editorial
    from briefing.store import articles as article_store
    from briefing.store.db import open_engine
    from briefing.store.subscribers_schema import subscribers as table

    config = folder / "briefing.toml"
    text = (REPO / "briefing.toml").read_text()
    text = text.replace(
        'url = "sqlite:///var/briefing.db"', f'url = "{db_url or f"sqlite:///{folder}/bench.db"}"'
    )
    # a real SMTP send refuses links that would not work (http://, loopback)
    text = text.replace(
        'base_url = "http://127.0.0.1:8000"', 'base_url = "https://news.example.org"'
    )
    config.write_text(text)
    os.environ.setdefault("BRIEFING_SECRET", secrets.token_urlsafe(32))
    settings = load_settings(config, env=dict(os.environ))
    engine = open_engine(settings.database_url)
    now = datetime.now(UTC)
    items = [
        Article(
            id=f"bench{i}",
            source_kind="feed",
            source="feed:bench",
            url=f"https://wire{i % 4}.example.org/story/{i}",
            title=f"North Korea condemns Japan's missile plan, part {i}: what Tokyo's defense build-up means",
            publisher=f"Example Wire {i % 4}",
            author="Jane Reporter",
            published=date(2026, 11, 1) + timedelta(days=i % 20),
            summary=(
                "Pyongyang condemned Japan's new counterstrike missiles, and analysts in Tokyo said the "
                f"defense build-up answers North Korea's launches (item {i}). "
            )
            * 2,
            body=f"North Korea and Japan traded warnings over missiles and defense spending, report {i}. "
            * 30,
            labels=("Security", "Asia"),
            ai_generated=i % 7 == 0,
            ai_disclosure="This summary was generated by AI from wire reports."
            if i % 7 == 0
            else None,
        )
        for i in range(stories)
    ]
    with engine.begin() as conn:
        article_store.upsert_articles(conn, items, now)
    big = settings.model_copy(
        update={"topics": (settings.topics[0].model_copy(update={"max_stories": stories}),)}
    )
    issue = editorial.draft(big, engine, now=now)
    editorial.approve(engine, issue.id, by="bench")
    with engine.begin() as conn:
        batch = []
        for n in range(subscribers):
            batch.append(
                {
                    "email": f"reader{n}@example.org",
                    "email_key": f"reader{n}@example.org",
                    "name": f"Reader {n}",
                    "status": "active",
                    "paused": False,
                    "topics": None,
                    "token_id": secrets.token_urlsafe(12),
                    "created_at": now,
                    "updated_at": now,
                    "consent_source": "bench",
                    "consent_at": now,
                    "confirmed_at": now,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
    engine.dispose()
    return config, settings.database_url, issue.id


def sample_message(config: Path, issue_id: int, out: Path) -> int:
    """One recipient's message as briefing sends it: the size smtp-source sends too."""
    from briefing.config import load_settings
    from briefing.deliver.compose import compose
    from briefing.deliver.message import Recipient
    from briefing.render import render_issue
    from briefing.services import issues as editorial
    from briefing.store.db import open_engine

    settings = load_settings(config, env=dict(os.environ))
    engine = open_engine(settings.database_url)
    issue = editorial.resolve_issue(engine, str(issue_id))
    rendered = render_issue(
        editorial.view(settings, engine, issue), settings, now=datetime.now(UTC)
    )
    data = compose(rendered, settings, issue_id=issue_id, date=datetime.now(UTC)).for_recipient(
        Recipient(
            email="reader1@example.org",
            name="Reader 1",
            unsubscribe_url="https://x/u/" + "t" * 40,
            preferences_url="https://x/p/" + "t" * 40,
            token="t" * 40,
        ),
        "1",
    )
    out.write_bytes(data)
    engine.dispose()
    return len(data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--stories", type=int, default=20)
    ap.add_argument(
        "--db",
        metavar="URL",
        help="an empty database to run against (e.g. postgresql+psycopg://...; it is migrated), "
        "or 'postgres' for a throwaway PostgreSQL cluster (tests/pgcluster.py); default a "
        "SQLite file in a temp folder",
    )
    args = ap.parse_args()
    cluster = None
    if args.db == "postgres":
        sys.path.insert(0, str(REPO / "tests"))
        from pgcluster import PGCluster

        # the server's own time per statement, for the JSON
        cluster = PGCluster({"shared_preload_libraries": "pg_stat_statements"})
        cluster.start()
        args.db = cluster.create_database("bench")
    try:
        return run(args, cluster)
    finally:
        if cluster is not None:
            cluster.stop()


def run(args: argparse.Namespace, cluster: Any = None) -> int:
    if not (shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists()):
        subprocess.run([str(REPO / "scripts" / "install_bench_tools.sh")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        config, db_url, issue_id = build_world(folder, args.subscribers, args.stories, args.db)
        print(
            f"set-up: {args.subscribers:,} subscribers, {args.stories} stories in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        size = sample_message(config, issue_id, folder / "message.eml")
        postgres = db_url.startswith("postgres")
        server_statements = ServerStatements(db_url) if postgres else None
        postmaster = (
            int((Path(cluster.data) / "postmaster.pid").read_text().split()[0])
            if cluster is not None
            else None
        )
        timing = folder / "statements.json"

        port = free_port()
        server = sink(port)
        try:
            if server_statements is not None:
                server_statements.reset()
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            before = usage.ru_maxrss
            cpu_before = usage.ru_utime + usage.ru_stime
            db_cpu = cpu_of(postmaster, children=True) if postmaster else 0.0
            sink_cpu = cpu_of(server.pid)
            t = time.perf_counter()
            done = subprocess.run(
                [
                    str(PYTHON),
                    str(REPO / "scripts" / "_statement_timing.py"),
                    str(timing),
                    "--config",
                    str(config),
                    "send",
                    str(issue_id),
                    "--json",
                    "--transport",
                    f"smtp://127.0.0.1:{port}?starttls=never",
                    "--workers",
                    str(args.workers),
                ],
                capture_output=True,
                text=True,
                env=dict(os.environ),
            )
            briefing_s = time.perf_counter() - t
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            peak_kb = usage.ru_maxrss
            cpu = {
                "briefing": usage.ru_utime + usage.ru_stime - cpu_before,
                "database": cpu_of(postmaster, children=True) - db_cpu if postmaster else None,
                "sink": cpu_of(server.pid) - sink_cpu,
            }
            server_side = server_statements.read() if server_statements is not None else []
            if server_statements is not None:
                server_statements.close()
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            summary = json.loads(done.stdout)
            if summary["sent"] != args.subscribers:
                print(f"error: sent {summary['sent']} of {args.subscribers}", file=sys.stderr)
                return 1

            source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_before = usage.ru_utime + usage.ru_stime
            sink_cpu = cpu_of(server.pid)
            t = time.perf_counter()
            subprocess.run(
                [
                    source,
                    "-d",
                    "-s",
                    str(args.workers),
                    "-m",
                    str(args.subscribers),
                    "-F",
                    str(folder / "message.eml"),
                    "-f",
                    "briefing@example.org",
                    "-t",
                    "reader@example.org",
                    f"127.0.0.1:{port}",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            source_s = time.perf_counter() - t
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu["smtp_source"] = usage.ru_utime + usage.ru_stime - cpu_before
            cpu["sink_during_source"] = cpu_of(server.pid) - sink_cpu
        finally:
            server.terminate()
            server.wait()
        client = json.loads(timing.read_text())
    briefing_rate = args.subscribers / briefing_s
    source_rate = args.subscribers / source_s
    peak_mb = max(peak_kb, before) / 1024
    n = args.subscribers
    client_s = sum(st["seconds"] for st in client["statements"])
    client_calls = sum(st["calls"] for st in client["statements"])
    server_s = sum(st["seconds"] for st in server_side) if server_side else None
    top = server_side or client["statements"]
    print(f"message size: {size:,} bytes; connections: {args.workers}")
    print(
        f"briefing send: {briefing_s:.2f} s ({briefing_rate:,.0f} msg/s over the whole command; "
        f"delivery phase {summary['messages_per_second']:,.0f} msg/s)"
    )
    print(f"smtp-source:   {source_s:.2f} s ({source_rate:,.0f} msg/s)")
    print(f"ratio {briefing_rate / source_rate:.2f} (target >= 0.70); peak RSS {peak_mb:.0f} MB")
    print(
        f"sending process: peak RSS {client['rss_mb']:.0f} MB, largest worker "
        f"{client['children_rss_mb']:.0f} MB"
    )
    print(
        f"database, as the sender waited for it: {client_s:.2f} s over {client_calls:,} "
        f"statements and commits ({client_calls / n:.1f} and {client_s / n * 1e6:,.0f} us a message)"
    )
    if server_s is not None:
        print(f"database, its own time (pg_stat_statements): {server_s:.2f} s")
    print("  " + ("server" if server_side else "client") + " time by statement:")
    for st in top[:6]:
        print(f"  {st['seconds']:7.2f} s {st['calls']:7,} x  {st['sql'][:110]}")
    print(
        "CPU seconds during the send: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if v is not None)
    )
    print(
        json.dumps(
            {
                "subscribers": args.subscribers,
                "briefing_msgs_per_s": round(briefing_rate, 1),
                "smtp_source_msgs_per_s": round(source_rate, 1),
                "ratio": round(briefing_rate / source_rate, 3),
                "peak_rss_mb": round(peak_mb, 1),
                "database": "postgresql" if postgres else "sqlite",
                "sender_rss_mb": round(client["rss_mb"], 1),
                "worker_rss_mb": round(client["children_rss_mb"], 1),
                "db_client_s": round(client_s, 3),
                "db_calls": client_calls,
                "db_server_s": None if server_s is None else round(server_s, 3),
                "db_top": [
                    {
                        "sql": st["sql"][:200],
                        "calls": st["calls"],
                        "seconds": round(st["seconds"], 3),
                    }
                    for st in top[:5]
                ],
                "cpu_s": {k: None if v is None else round(v, 2) for k, v in cpu.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
