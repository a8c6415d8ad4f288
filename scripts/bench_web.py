#!/usr/bin/env python3
"""Benchmark: the public pages of `briefing serve` under load, against /healthz in the
same run. A temporary folder gets the seeds ingested, an issue drafted, approved and sent
to outbox://, and a few hundred subscribers; then wrk (64 connections, a few seconds
each) loads /archive/N, /archive, /archive.atom and a one-click unsubscribe POST
(/u/TOKEN, body List-Unsubscribe=One-Click) twice: over a few subscribers' tokens (after
the first POST each, a repeated click, which the unsubscribe answers without a change),
and as "first click" over --clicks (20,000) more subscribers' tokens, each POSTed once, so
every request unsubscribes somebody: a write, as in a real storm after a send.

Last line, one JSON object:
  {"connections": 64, "seconds": S, "healthz_rps": H,
   "endpoints": {"/archive/N": {"rps": X, "errors": E, "ratio": X/H}, ...}, "ok": bool}
Target: each page's ratio >= 0.5 and no errors (non-2xx answers, socket errors).

Usage: .venv/bin/python scripts/bench_web.py [--connections 64] [--seconds 5] [--repo DIR]
(--repo: another checkout with its own .venv, e.g. main, for a "before" figure)
Needs wrk (scripts/install_bench_tools.sh installs it; run as root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
CONFIG = REPO / "briefing.toml"
SECRET = "bench-web-secret-" + "w" * 32
POST_LUA = """
tokens = {%s}
counter = 0
request = function()
  counter = counter + 1
  local path = "/u/" .. tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", path,
    {["Content-Type"] = "application/x-www-form-urlencoded"},
    "List-Unsubscribe=One-Click")
end
"""
# the first-click run: each request a token not posted before (wrk's threads interleave)
FIRST_LUA = """
tokens = {%s}
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  counter = 0
  step = 2
end
request = function()
  local i = (counter * step + id) %% #tokens
  counter = counter + 1
  return wrk.format("POST", "/u/" .. tokens[i + 1],
    {["Content-Type"] = "application/x-www-form-urlencoded"},
    "List-Unsubscribe=One-Click")
end
"""
# wrk counts only socket errors itself; count non-2xx answers (and 304s as fine) here
STATUS_LUA = """
bad = 0
response = function(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("NON2XX %d\\n", bad))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [str(BRIEFING), "--config", str(CONFIG), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"error: briefing {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build_world(folder: Path, env: dict[str, str], subscribers: int) -> tuple[int, list[str]]:
    """Seeds ingested, an issue sent to outbox://, `subscribers` subscribers; returns the
    sent issue's number and a few one-click unsubscribe tokens."""
    csv = folder / "subscribers.csv"
    csv.write_text(
        "email,name,topics,timezone\n"
        + "".join(f"reader{n}@example.org,Reader {n},,\n" for n in range(subscribers))
    )
    run(env, folder, "ingest")
    run(env, folder, "subscribers", "import", str(csv))
    drafted = run(env, folder, "draft")
    found = re.search(r"[Ii]ssue (\d+)", drafted)
    if not found:
        raise SystemExit(f"error: no issue number in `briefing draft`:\n{drafted}")
    issue = int(found.group(1))
    run(env, folder, "approve", str(issue), "--by", "bench")
    run(env, folder, "send", str(issue), "--transport", f"outbox://{folder / 'outbox'}")
    tokens = []
    for n in range(min(subscribers, 8)):
        shown = json.loads(
            run(env, folder, "subscribers", "show", f"reader{n}@example.org", "--json")
        )
        tokens.append(str(shown["unsubscribe_url"]).rsplit("/u/", 1)[1])
    return issue, tokens


def first_click_tokens(folder: Path, env: dict[str, str], count: int) -> list[str]:
    """`count` more subscribers, imported after the send, and their one-click tokens (the
    manage token of their links, signed as Briefing signs it): each POST of the
    "first click" run unsubscribes somebody, a write, as in a real storm."""
    import sqlite3

    from briefing.tokens import sign

    csv = folder / "clickers.csv"
    csv.write_text(
        "email,name,topics,timezone\n"
        + "".join(f"clicker{n}@example.org,Clicker {n},,\n" for n in range(count))
    )
    run(env, folder, "subscribers", "import", str(csv))
    with sqlite3.connect(folder / "bench.db") as db:
        rows = db.execute(
            "SELECT token_id FROM subscribers WHERE email LIKE 'clicker%' ORDER BY id"
        ).fetchall()
    return [sign(token_id, [SECRET]) for (token_id,) in rows]


def wrk(url: str, connections: int, seconds: int, script: Path) -> tuple[float, int, int]:
    """(requests/s, socket errors, non-2xx answers)."""
    out = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    socket_errors = 0
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if found:
        socket_errors = sum(int(g) for g in found.groups())
    non2xx = int(re.search(r"NON2XX (\d+)", out).group(1))  # type: ignore[union-attr]
    return rps, socket_errors, non2xx


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--clicks", type=int, default=20000, help="subscribers for the first-click run")
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout whose briefing to run")
    args = ap.parse_args()
    global BRIEFING, CONFIG
    BRIEFING = args.repo.resolve() / ".venv" / "bin" / "briefing"
    CONFIG = args.repo.resolve() / "briefing.toml"
    if not shutil.which("wrk"):
        raise SystemExit("error: wrk is missing; run scripts/install_bench_tools.sh (as root)")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "BRIEFING_SECRET": SECRET,
            "BRIEFING_STORAGE_URL": f"sqlite:///{folder}/bench.db",
            "BRIEFING_NEWSLETTER_BASE_URL": base,
        }
        t = time.perf_counter()
        issue, tokens = build_world(folder, env, args.subscribers)
        print(
            f"set-up: issue {issue} sent, {args.subscribers} subscribers in {time.perf_counter() - t:.1f} s"
        )
        get_lua = folder / "get.lua"
        get_lua.write_text(STATUS_LUA)
        post_lua = folder / "post.lua"
        post_lua.write_text(POST_LUA % ", ".join(f'"{t}"' for t in tokens) + STATUS_LUA)
        t = time.perf_counter()
        clickers = first_click_tokens(folder, env, args.clicks)
        print(
            f"set-up: {len(clickers)} more subscribers to click in {time.perf_counter() - t:.1f} s"
        )
        first_lua = folder / "first.lua"
        first_lua.write_text(FIRST_LUA % ", ".join(f'"{t}"' for t in clickers) + STATUS_LUA)
        server = subprocess.Popen(
            [str(BRIEFING), "--config", str(CONFIG), "serve", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("error: `briefing serve` did not start")
                time.sleep(0.1)
            targets = [
                ("/healthz", base + "/healthz", get_lua),
                (f"/archive/{issue}", f"{base}/archive/{issue}", get_lua),
                ("/archive", base + "/archive", get_lua),
                ("/archive.atom", base + "/archive.atom", get_lua),
                ("POST /u/TOKEN", base + "/", post_lua),
                ("POST /u/TOKEN first click", base + "/", first_lua),
            ]
            results: dict[str, dict[str, float]] = {}
            for name, url, script in targets:
                # warm up (first render, connections); the first clicks are not spent on it
                wrk(url, args.connections, 1, post_lua if script is first_lua else script)
                rps, errors, non2xx = wrk(url, args.connections, args.seconds, script)
                results[name] = {"rps": round(rps, 1), "errors": errors + non2xx}
        finally:
            server.terminate()
            server.wait(timeout=10)
    healthz = results["/healthz"]["rps"]
    ok = True
    print(f"{'endpoint':<18} {'req/s':>10} {'errors':>7} {'x healthz':>10}")
    for name, row in results.items():
        row["ratio"] = round(row["rps"] / healthz, 3) if healthz else 0.0
        if name != "/healthz":
            ok = ok and row["ratio"] >= 0.5
        ok = ok and row["errors"] == 0
        print(f"{name:<18} {row['rps']:>10.1f} {int(row['errors']):>7} {row['ratio']:>10.3f}")
    print(
        json.dumps(
            {
                "connections": args.connections,
                "seconds": args.seconds,
                "healthz_rps": healthz,
                "endpoints": {k: v for k, v in results.items() if k != "/healthz"},
                "ok": ok,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
