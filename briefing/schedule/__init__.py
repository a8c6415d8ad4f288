"""The weekly cycle, kept by APScheduler 3: ingest, draft and proof, send.

    ingest      every [schedule].ingest_every: read the feeds and seeds
    draft       draft_before the send: ingest, build (or refresh) the draft for the coming
                send, email a proof to [schedule].editors
    send        at the send time: send the approved issue (or approve it, when no approval
                is required); an unapproved one waits, the editors are told
    send-retry  every retry_every: the same check, so a late approval still goes out, a
                send cut short resumes, and an issue past expire_after is marked expired

calendar.py says when (pure), jobs.py what each job does (through the services), runner.py
wires them to APScheduler. Each job decides from the database alone what is due at the
moment it runs (the ``now`` it is given), so a job that runs twice, late, or in two
schedulers at once does no harm: every job runs under a named lease in the database
(APScheduler 3 has no cross-process locking), the issue's state says whether it was sent,
and the outbox makes sure a send that is cut short and resumed reaches everyone
exactly once.
"""
