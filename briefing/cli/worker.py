"""The worker command: delivers what `send N --queue` queued, on any number of machines."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import timedelta
from typing import Any

import click
from rich.markup import escape

from briefing.cli.app import cli, emit_json, err_console, global_options, state
from briefing.deliver.options import SendSummary
from briefing.services import workers


@cli.command()
@click.option(
    "--transport",
    metavar="URL",
    help="smtp://user@host:port, smtps://..., outbox://DIR (default delivery.url).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="SMTP connections of this worker (default delivery.workers).",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1),
    default=workers.POLL_SECONDS,
    show_default=True,
    help="Seconds between looks for new work when idle.",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=1),
    help="Seconds a claimed batch stays this worker's without a renewal (default 300).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    help="Rows claimed at a time per connection (default 200).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON when it stops.")
@global_options
def worker(
    transport: str | None,
    concurrency: int | None,
    poll: float,
    lease: float | None,
    batch: int | None,
    as_json: bool,
) -> None:
    """Deliver queued sends until SIGTERM: run any number, on any machines sharing the database.

    A worker claims outbox batches under a lease, sends them, records each result, and
    looks for new work every --poll seconds when idle. `briefing send N --queue` gives it
    work. SIGTERM (or Ctrl-C) lets the messages in flight finish, gives back the rows not
    reached and exits 0. A worker that dies leaves its rows to the others once its lease
    runs out (at once on the same machine). delivery.rate holds for the whole send,
    shared by every worker.

    \b
    Examples:
        briefing worker --transport smtp://mailer@smtp.example.org:587 --concurrency 4
        briefing send 3 --queue && briefing send 3 --wait
    """
    st = state()
    settings, engine = st.settings(), st.engine()
    options = workers.worker_options(
        settings,
        transport=transport,
        concurrency=concurrency,
        lease=timedelta(seconds=lease) if lease else None,
        batch=batch,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    def on_run(issue_id: int, summary: SendSummary) -> None:
        mine = summary.sent_here if summary.sent_here is not None else summary.sent_this_run
        if mine or summary.paused or summary.ambiguous:
            err_console.print(
                f"issue {issue_id}: {mine} sent by this worker"
                + (f"; {escape(summary.paused)}" if summary.paused else "")
            )
        for address in summary.ambiguous:
            err_console.print(
                f"[yellow]fate unknown[/] (a sender stopped while sending it): {escape(address)}"
                f" — {'resent' if options.resend_ambiguous else 'not resent'}"
            )

    err_console.print(
        f"worker: waiting for sends (looks every {poll:g} s, "
        f"{options.workers} connection(s) to {escape(options.transport_url.split('@')[-1])})"
    )
    try:
        report = workers.work(settings, engine, options, stop=stop, poll=poll, on_run=on_run)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    doc = {
        "owner": report.owner,
        "runs": report.runs,
        "sent": report.sent,
        "issues_sent": report.issues_sent,
        "ambiguous": report.ambiguous,
        "paused": {str(k): v for k, v in report.paused.items()},
        "seconds": round(report.seconds, 2),
    }
    if as_json:
        emit_json(doc)
    else:
        err_console.print(
            f"worker stopped: {report.sent} sent in {report.runs} run(s)"
            + (
                f"; issue(s) {', '.join(map(str, report.issues_sent))} sent"
                if report.issues_sent
                else ""
            )
        )
    sys.exit(0)
