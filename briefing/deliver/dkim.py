"""DKIM signing with dkimpy, when a key is configured.

The key comes from the environment variable (delivery.dkim_key_env) or file
(delivery.dkim_key_file) the config names, never from the config itself. List-Unsubscribe
and List-Unsubscribe-Post are signed (RFC 8058 section 4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from briefing.config import Settings
from briefing.errors import ConfigError

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
    b"mime-version",
    b"content-type",
    b"x-briefing-ai-content",
)


@dataclass(frozen=True)
class Signer:
    selector: str
    domain: str
    key: bytes

    def sign(self, message: bytes) -> bytes:
        import dkim  # only when a key is configured: it pulls in dnspython

        header = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.key,
            include_headers=list(SIGNED_HEADERS),
            linesep=b"\r\n",
        )
        return bytes(header) + message


def load_signer(settings: Settings) -> Signer | None:
    d = settings.delivery
    if not d.dkim_selector:
        return None
    key: str | None = None
    if d.dkim_key_env:
        key = os.environ.get(d.dkim_key_env)
        if not key:
            raise ConfigError(
                f"delivery.dkim_key_env names {d.dkim_key_env}, which is not set",
                "export the PEM private key in that variable, or use delivery.dkim_key_file",
            )
    elif d.dkim_key_file:
        try:
            key = settings.path(d.dkim_key_file).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read delivery.dkim_key_file: {exc.strerror}") from exc
    if not key:
        raise ConfigError(
            "delivery.dkim_selector is set but no key is configured",
            "set delivery.dkim_key_env or delivery.dkim_key_file",
        )
    domain = d.dkim_domain or settings.newsletter.sender.rsplit("@", 1)[-1].strip("> ")
    return Signer(d.dkim_selector, domain, key.encode())
