"""The send command (`briefing send`): send or resume an issue, queue it for workers, wait for them."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.errors import BriefingError
from briefing.services import send as sending
from briefing.services import workers as queue_workers
from briefing.services.sendrun import is_operator_pause


@cli.command()
@click.argument("issue_ref", required=False)
@click.option(
    "--transport",
    metavar="URL",
    help="smtp://user@host:port, smtps://..., outbox://DIR (default delivery.url).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Parallel SMTP connections (default delivery.workers).",
)
@click.option("--rate", type=click.FloatRange(min=0.1), help="At most N messages per second.")
@click.option("--dry-run", is_flag=True, help="List who would get what; send nothing.")
@click.option(
    "--test-to", metavar="EMAIL", help="Send a proof to one address; the outbox is not touched."
)
@click.option(
    "--force", is_flag=True, help="Send a draft: approve it now (recorded as send --force)."
)
@click.option(
    "--by", "actor", default="cli", show_default=True, help="Who sends (for the audit trail)."
)
@click.option(
    "--new-secret",
    is_flag=True,
    help="Accept a signing secret that leaves out the one used last (old links break).",
)
@click.option(
    "--queue",
    is_flag=True,
    help="Queue the recipients and return: `briefing worker` processes deliver.",
)
@click.option(
    "--wait", is_flag=True, help="Show the workers' progress until the issue is sent (or paused)."
)
@click.option(
    "--pause",
    is_flag=True,
    help="Pause the send under way: every sender stops after the messages in flight "
    "(`send N --queue` resumes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@global_options
def send(
    issue_ref: str | None,
    transport: str | None,
    workers: int | None,
    rate: float | None,
    dry_run: bool,
    test_to: str | None,
    force: bool,
    actor: str,
    new_secret: bool,
    queue: bool,
    wait: bool,
    pause: bool,
    as_json: bool,
) -> None:
    """Send an approved issue to its subscribers, or resume an interrupted send.

    One outbox row per recipient records what the server said; running `send` again
    after a crash or a pause goes on where it stopped, and never mails anyone twice.

    \b
    Examples:
        briefing send --dry-run
        briefing send 3 --test-to me@example.org
        briefing send --transport smtp://mailer@smtp.example.org:587 --workers 4 --rate 50
        briefing send 3 --queue        # then `briefing worker` on any number of machines
        briefing send 3 --wait         # watch them until the issue is sent
        briefing send 3 --pause        # every sender stops; `send 3 --queue` resumes
    """
    st = state()
    settings, engine = st.settings(), st.engine()
    issue = sending.pick_issue(engine, issue_ref, force=force)
    if pause:
        if queue or wait or dry_run or test_to:
            raise BriefingError(
                "--pause goes alone",
                f"pause with `briefing send {issue.id} --pause`, resume with "
                f"`briefing send {issue.id} --queue`",
            )
        _pause(engine, issue.id, actor, as_json)
        return
    if test_to:
        from briefing.email_address import InvalidAddress, normalize_email

        try:
            normalize_email(test_to)
        except InvalidAddress as exc:
            raise BriefingError(
                f"--test-to {exc.message}",
                "--test-to takes an email address; to write the proof into a folder instead, "
                "send it to yourself with --transport outbox:///path/to/folder (the .eml lands "
                "in its new/), or use `briefing preview N --out DIR`",
            ) from exc
        address = sending.send_test(settings, engine, issue, test_to, transport=transport)
        problem = sending.links_problem(settings, transport or settings.delivery.url)
        if problem:
            err_console.print(
                f"warning: {escape(problem)}: the proof's links work only where that "
                "address does; a real send with it is refused"
            )
        if as_json:
            emit_json({"issue": issue.id, "proof_to": address})
        else:
            err_console.print(f"proof of issue {issue.id} sent to {escape(address)}")
        return
    if dry_run:
        planned = list(sending.dry_run(engine, issue))
        if as_json:
            emit_json(
                {
                    "issue": issue.id,
                    "state": issue.state,
                    "subject": issue.subject,
                    "recipients": [p.email for p in planned],
                    "count": len(planned),
                }
            )
        else:
            out_console.print(
                f"issue {issue.id} ({issue.state}) would go to {len(planned)} recipient(s): "
                f"{escape(issue.subject)}"
            )
            for p in planned:
                out_console.print(f"  {escape(p.email)}")
        return
    options = sending.options_from(settings, transport=transport, workers=workers, rate=rate)
    if wait and not queue:
        _wait(settings, engine, issue.id, as_json)
        return
    for warning in sending.preflight(
        settings, engine, options.transport_url, accept_new_secret=new_secret
    ):
        err_console.print(f"[yellow]warning:[/] {escape(warning)}")
    if queue:
        counts = queue_workers.queue(settings, engine, issue, actor=actor, force=force)
        if not wait:
            if as_json:
                emit_json({"issue": issue.id, "state": "sending", "queued": True, "counts": counts})
            else:
                left = counts["queued"] + counts["deferred"] + counts["sending"]
                out_console.print(
                    f"issue {issue.id} is queued: {left} message(s) to send, "
                    f"{counts['sent']} sent; `briefing worker` delivers them "
                    f"(`briefing send {issue.id} --wait` shows the progress)"
                )
            return
        _wait(settings, engine, issue.id, as_json)
        return
    bar = Progress(
        TextColumn("issue {task.fields[issue]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    )
    task = bar.add_task("send", total=None, issue=issue.id, rate="")
    started: dict[str, Any] = {}

    def progress(counts: dict[str, int]) -> None:
        import time

        total = sum(counts.values())
        done = counts["sent"] + counts["failed"] + counts["skipped"]
        started.setdefault("t", time.monotonic())
        started.setdefault("done", done)
        elapsed = time.monotonic() - started["t"]
        rate_now = (done - started["done"]) / elapsed if elapsed > 0 else 0.0
        bar.update(task, total=total, completed=done, rate=f"{rate_now:,.0f} msg/s")

    with bar:
        summary = sending.send(
            settings,
            engine,
            issue,
            options,
            actor=actor,
            force=force,
            # no bar with --json: nor the count of the outbox it shows, every second
            # (a query over the issue's rows: 46 ms at 100,000)
            progress=None if as_json else progress,
        )
    problems = sending.failures(engine, issue.id)
    doc: dict[str, Any] = {
        "issue": issue.id,
        "finished": summary.finished,
        "paused": summary.paused,
        "sent": summary.counts["sent"],
        "deferred": summary.counts["deferred"],
        "failed": summary.counts["failed"],
        "skipped": summary.counts["skipped"],
        "queued": summary.counts["queued"],
        "sent_this_run": summary.sent_this_run,
        "seconds": round(summary.seconds, 2),
        "messages_per_second": round(summary.rate, 1),
        "ambiguous": summary.ambiguous,
        "transport": options.transport_url.split("@")[-1],
        "problems": [
            {
                "email": p["email"],
                "state": p["state"],
                "code": p["last_code"],
                "error": p["last_error"],
            }
            for p in problems
        ],
    }
    if as_json:
        emit_json(doc)
    else:
        out_console.print(
            f"issue {issue.id}: {doc['sent']} sent, {doc['deferred']} deferred, {doc['failed']} failed, "
            f"{doc['skipped']} skipped ({summary.sent_this_run} this run, {summary.rate:,.0f} msg/s)"
        )
        if summary.finished:
            out_console.print(f"issue {issue.id} is sent")
        for address in summary.ambiguous:
            err_console.print(
                f"[yellow]fate unknown[/] (a previous run stopped while sending it): "
                f"{escape(address)} — {'resent' if options.resend_ambiguous else 'not resent'}"
            )
        for p in doc["problems"]:
            who = p["email"] or "(a forgotten subscriber)"
            said = " ".join(str(x) for x in (p["code"], p["error"]) if x is not None)
            err_console.print(
                f"[red]{p['state']}[/] {escape(who)}: {escape(said or 'no reason recorded')}"
            )
    if summary.paused:
        raise BriefingError(
            f"issue {issue.id}: {summary.paused}",
            "fix the cause, then run `briefing send` again: it resumes where it stopped",
        )


def _pause(engine: Any, issue_id: int, actor: str, as_json: bool) -> None:
    """`send N --pause`: record the pause; the senders see it within a second or two."""
    reason, counts = queue_workers.pause(engine, issue_id, actor=actor)
    if as_json:
        emit_json({"issue": issue_id, "state": "sending", "paused": reason, "counts": counts})
        return
    left = counts["queued"] + counts["deferred"] + counts["sending"]
    out_console.print(
        f"issue {issue_id} is paused ({escape(reason)}): its senders stop after the messages "
        f"in flight; {left} message(s) wait. `briefing send {issue_id} --queue` resumes"
    )


def _problems(engine: Any, issue_id: int) -> list[dict[str, Any]]:
    return [
        {"email": p["email"], "state": p["state"], "code": p["last_code"], "error": p["last_error"]}
        for p in sending.failures(engine, issue_id)
    ]


def _wait(settings: Any, engine: Any, issue_id: int, as_json: bool) -> None:
    """`send --wait`: the workers' progress until the issue is sent or paused; exit 0 when
    it is sent, 1 (saying why) when it paused, is not being sent, or failures remain."""
    import time

    bar = Progress(
        TextColumn("issue {task.fields[issue]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    )
    task = bar.add_task("wait", total=None, issue=issue_id, rate="")
    started = time.monotonic()
    first: dict[str, Any] = {}

    def tick(now: queue_workers.Progress) -> None:
        total = sum(now.counts.values())
        done = now.counts["sent"] + now.counts["failed"] + now.counts["skipped"]
        first.setdefault("sent", now.counts["sent"])
        elapsed = time.monotonic() - started
        rate_now = (now.counts["sent"] - first["sent"]) / elapsed if elapsed > 0 else 0.0
        who = f"{now.senders} sender(s)" if now.senders else "no worker sending"
        bar.update(task, total=total, completed=done, rate=f"{rate_now:,.0f} msg/s, {who}")
        if not now.senders and elapsed > 30 and not first.get("told") and not now.done:
            first["told"] = True
            err_console.print(
                "[yellow]warning:[/] no worker has been sending for a while: "
                "start `briefing worker` (any number, on any machine sharing the database)"
            )

    with bar:
        try:
            end = queue_workers.watch(settings, engine, issue_id, on_tick=tick)
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None
    seconds = time.monotonic() - started
    counts = end.counts
    sent_meanwhile = counts["sent"] - first.get("sent", counts["sent"])
    problems = _problems(engine, issue_id)
    doc: dict[str, Any] = {
        "issue": issue_id,
        "state": end.state,
        "finished": end.state == "sent",
        "paused": end.paused,
        "sent": counts["sent"],
        "deferred": counts["deferred"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "queued": counts["queued"],
        "sent_this_run": sent_meanwhile,
        "seconds": round(seconds, 2),
        "messages_per_second": round(sent_meanwhile / seconds, 1) if seconds else 0.0,
        "ambiguous": [],
        "transport": None,
        "problems": problems,
    }
    if as_json:
        emit_json(doc)
    else:
        out_console.print(
            f"issue {issue_id}: {doc['sent']} sent, {doc['deferred']} deferred, "
            f"{doc['failed']} failed, {doc['skipped']} skipped"
        )
        if end.state == "sent":
            out_console.print(f"issue {issue_id} is sent")
        for p in problems:
            who = p["email"] or "(a forgotten subscriber)"
            said = " ".join(str(x) for x in (p["code"], p["error"]) if x is not None)
            err_console.print(
                f"[red]{p['state']}[/] {escape(who)}: {escape(said or 'no reason recorded')}"
            )
    if end.paused:
        raise BriefingError(
            f"issue {issue_id}: {end.paused}",
            ("" if is_operator_pause(end.paused) else "fix the cause, then ")
            + f"`briefing send {issue_id} --queue` lifts the pause "
            "and the workers resume where they stopped",
        )
    if end.state != "sent":
        raise BriefingError(
            f"issue {issue_id} is {end.state}, not being sent",
            f"queue it with `briefing send {issue_id} --queue`",
        )
    if counts["failed"]:
        raise BriefingError(
            f"issue {issue_id} is sent, but {counts['failed']} message(s) failed",
            "see the failures above (a hard bounce suppresses its address)",
        )
