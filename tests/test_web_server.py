"""briefing.web.server's pure parts: which hosts get the no-https warning, and what the
access log keeps of a path. (The real serve process is tested in
tests/e2e/test_serve_process.py.)"""

from __future__ import annotations

import pytest

from briefing.config import Settings
from briefing.web.server import redact, warnings_for

HTTP = Settings()  # base_url http://127.0.0.1:8000
HTTPS = Settings.model_validate({"newsletter": {"base_url": "https://news.example.org"}})


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "[::]", "example.org"])
def test_a_host_other_machines_reach_warns_without_https(host: str) -> None:
    (warning,) = warnings_for(HTTP, host)
    assert host in warning and "https" in warning
    assert warnings_for(HTTPS, host) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_do_not_warn(host: str) -> None:
    assert warnings_for(HTTP, host) == []


def test_trusting_every_client_on_a_public_host_warns() -> None:
    anyone = Settings.model_validate(
        {"newsletter": {"base_url": "https://x.example.org"}, "web": {"forwarded_allow_ips": "*"}}
    )
    (warning,) = warnings_for(anyone, "0.0.0.0")
    assert "X-Forwarded-For" in warning


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/u/abc.def", "/u/[redacted]"),
        ("/p/abc.def?x=1", "/p/[redacted]"),
        ("/confirm/a.1.b", "/confirm/[redacted]"),
        ("/archive/3", "/archive/3"),
        ("/desk/issues/1?done=saved", "/desk/issues/1?done=saved"),
        ("/unsubscribe", "/unsubscribe"),
    ],
)
def test_the_access_log_keeps_no_token(path: str, logged: str) -> None:
    assert redact(path) == logged
