"""Dot-stuffing on the SMTP transport: lines that begin with a dot reach a real server
(aiosmtpd) as they were, the first line and a dot alone on a line included."""

from __future__ import annotations

from typing import Any

import pytest

from briefing.deliver.transports.smtp import SMTPTransport

Sink = Any  # conftest.SMTPSink


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_lines_that_begin_with_a_dot_arrive_as_they_were(
    smtp_server: Sink, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    bodies = [
        b"Subject: a\r\n\r\n.leading\r\n..two\r\n.\r\nend\r\n",
        b".first line\r\n\r\nx\r\n.",  # no line end at the end: one is added
        b"Subject: none\r\n\r\nno dot at a line start. a.b\r\n",
    ]
    transport = SMTPTransport(
        smtp_server.url,
        host=smtp_server.host,
        port=smtp_server.port,
        implicit_tls=False,
        starttls="never",
        username=None,
        password=None,
        timeout=10,
    )
    try:
        for i, body in enumerate(bodies):
            transport.send("briefing@example.org", f"r{i}@example.org", body)
    finally:
        transport.close()
    got = [m.data for m in smtp_server.messages]
    expected = [b if b.endswith(b"\r\n") else b + b"\r\n" for b in bodies]
    assert [g.replace(b"\r\n", b"\n") for g in got] == [e.replace(b"\r\n", b"\n") for e in expected]
