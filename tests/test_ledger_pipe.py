"""The ledger's pipe between a send's worker processes and their parent: steps and their
answers as a few bytes, anything else pickled, and the parent's refusal as an error."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from multiprocessing import Pipe
from typing import Any

import pytest

from briefing.deliver.ledger import (
    Claim,
    LedgerFailed,
    RemoteLedger,
    Reply,
    SentSince,
    Step,
    decode,
    decode_reply,
    encode,
    encode_reply,
    serve,
)
from briefing.deliver.options import Stop


@pytest.mark.parametrize(
    "request_",
    [
        Step(None, 5, "host:12:w0"),
        Step(7, None, "hôte:12:w1"),
        Step(2**40, 2**40 + 1, ""),
        Claim(3, "host:12:w0", 300.0, 200, after=None),
        Claim(3, "host:12:w0", 300.0, 200, after=99),
        SentSince(3600.0),
    ],
)
def test_a_request_crosses_the_pipe_unchanged(request_: Any) -> None:
    assert decode(encode(request_)) == request_


def test_a_step_is_a_few_bytes_and_its_answer_one() -> None:
    assert len(encode(Step(1, 2, "host:12:w0"))) == 17 + len("host:12:w0")
    assert encode_reply(Reply(True, True)) == b"\x01"
    assert encode_reply(Reply(True, False)) == b"\x00"
    for reply in (Reply(True, None), Reply(True, 1), Reply(True, 0), Reply(False, error="boom")):
        assert len(encode_reply(reply)) > 1
        assert decode_reply(encode_reply(reply)) == reply
    assert decode_reply(b"\x01") == Reply(True, True)
    assert decode_reply(b"\x00") == Reply(True, False)


class _Outbox:
    """Enough of an Outbox for serve(): steps answer by row id; row 13 cannot be written."""

    def __init__(self) -> None:
        self.recorded: list[tuple[int | None, int | None, str]] = []

    def steps(
        self, steps: Sequence[tuple[int | None, int | None, str]], now: datetime
    ) -> list[bool]:
        if any(start == 13 for _, start, _ in steps):
            raise RuntimeError("row 13 cannot be written")
        self.recorded += steps
        return [start is not None and start % 2 == 0 for _, start, _ in steps]

    def sent_since(self, since: datetime) -> int:
        return 42

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield


def test_a_worker_and_its_parent_over_a_real_pipe() -> None:
    outbox = _Outbox()
    parent, child = Pipe()
    server = threading.Thread(target=serve, args=(outbox, [parent], Stop(), lambda: None))
    server.start()
    ledger = RemoteLedger(child)
    try:
        assert ledger.start(Step(None, 2, "w")).answer() is True
        assert ledger.do(Step(2, 3, "w")) is False
        assert ledger.do(SentSince(60.0)) == 42  # pickled, both ways
        with pytest.raises(LedgerFailed, match="row 13 cannot be written"):
            ledger.do(Step(3, 13, "w"))
        assert ledger.do(Step(3, None, "w")) is False
    finally:
        ledger.close()
        server.join(timeout=10)
    assert not server.is_alive()  # the worker hung up: the parent's loop ends
    assert outbox.recorded == [(None, 2, "w"), (2, 3, "w"), (3, None, "w")]
