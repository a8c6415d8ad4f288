"""The keys behind links and the suppression list, checked against what the database
remembers of them, so that a changed or missing key stops a command instead of silently
breaking every link already sent, or letting forgotten addresses back in.

The database keeps only a fingerprint of each key: an HMAC-SHA256 of a constant under the
key, which tells whether two keys are the same and cannot be turned back into the key.

- The signing key (``security.secret_env``, else ``security.secret_file``; the first of
  the list signs, all verify): the fingerprint of the key that signed last is recorded by
  `send` and `serve`. When the current keys do not include it, the links already sent
  would all 404: they refuse to go on unless told (``--new-secret``). Rotating the right
  way keeps the old key after the new one: BRIEFING_SECRET="NEW,OLD".
- The suppression key (``security.suppression_key_env``, else
  ``security.suppression_key_file``): a key of its own that never rotates, so the
  suppression list's HMACs stay readable whatever happens to the signing secrets. Its
  fingerprint is recorded on first use; a different or missing key stops every command
  that reads or writes the list (a new key would let every forgotten address back in).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime

from sqlalchemy import Engine, func, select

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.errors import BriefingError
from briefing.store import keys as store
from briefing.store.issues_schema import issues

SIGNING = "signing"
SUPPRESSION = "suppression"
_CONSTANT = b"briefing key fingerprint v1"


class KeyChanged(BriefingError):
    default_hint = "restore the key, or see README.md (Security) on rotating secrets"


def fingerprint(key: str | bytes) -> str:
    """A one-way fingerprint of a key (32 hex digits)."""
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw, _CONSTANT, hashlib.sha256).hexdigest()[:32]


def _sent_any(engine: Engine) -> bool:
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).where(issues.c.state.in_(("sending", "sent")))
        ).scalar_one()
    return bool(count)


def check_signing(
    settings: Settings,
    engine: Engine,
    *,
    accept_new: bool = False,
    now: datetime | None = None,
) -> list[str]:
    """Before `send` or `serve`: the current signing keys must include the one that signed
    last. Records the key that signs from now on. Returns warnings for people (a change
    accepted with ``accept_new``); raises KeyChanged otherwise."""
    env_name, file_name = settings.security.secret_env, settings.security.secret_file
    warnings: list[str] = []
    with engine.connect() as conn:
        last = store.recorded(conn, SIGNING)
    new_file = settings.secrets_would_be_created()
    if new_file is not None and (last is not None or _sent_any(engine)):
        # the "started from another folder" case: a relative var/secret that is not there
        if not accept_new:
            raise KeyChanged(
                f"{env_name} is not set and {new_file} does not exist, but this database "
                "has sent links signed with a secret: a new secret would break every "
                "unsubscribe, preferences and confirmation link already sent",
                f"run from the newsletter's folder (or pass --config), restore {file_name}, "
                f"or set {env_name}; --new-secret makes a new secret anyway (the links "
                "already sent stop working)",
            )
        warnings.append(f"created a new signing secret in {new_file}")
    secrets = settings.secrets()
    prints = [fingerprint(s) for s in secrets]
    if last is not None and last not in prints:
        if not accept_new:
            raise KeyChanged(
                f"the signing secret changed: the key that signed the links already sent "
                f"(fingerprint {last[:8]}) is not among the current secrets in "
                f"{_where(settings)}, so every unsubscribe, preferences and confirmation "
                "link sent so far would stop working (404)",
                f'keep the old key after the new one: {env_name}="NEW,OLD" (or a second '
                f"line in {file_name}); to accept that the old links break, run again "
                "with --new-secret",
            )
        warnings.append(
            f"the signing secret changed (was {last[:8]}, now {prints[0][:8]}): links in "
            "emails sent before now stop working"
        )
    if last != prints[0]:
        store.record(engine, SIGNING, prints[0], now or utcnow())
    return warnings


def _where(settings: Settings) -> str:
    if os.environ.get(settings.security.secret_env, "").strip():
        return settings.security.secret_env
    return str(settings.path(settings.security.secret_file))


def suppression_key(settings: Settings, engine: Engine, *, now: datetime | None = None) -> bytes:
    """The suppression list's HMAC key, checked against the fingerprint the database keeps
    (recorded on first use). A missing key is created only when none was ever recorded."""
    sec = settings.security
    with engine.connect() as conn:
        last = store.recorded(conn, SUPPRESSION)
    key = settings.suppression_key(create=last is None)
    if key is None:
        raise KeyChanged(
            f"the suppression key is missing ({sec.suppression_key_env} is not set and "
            f"{settings.path(sec.suppression_key_file)} does not exist), and the suppression "
            "list was keyed with one: without it, forgotten addresses could be imported "
            "again",
            f"restore {sec.suppression_key_file} from your backup (or set "
            f"{sec.suppression_key_env}), or run from the newsletter's folder (--config)",
        )
    found = fingerprint(key)
    if last is None:
        store.record(engine, SUPPRESSION, found, now or utcnow())
    elif found != last:
        raise KeyChanged(
            f"the suppression key (fingerprint {found[:8]}) is not the key that keyed the "
            f"suppression list (fingerprint {last[:8]}): forgotten addresses would not be "
            "recognised",
            f"restore the original {sec.suppression_key_file} (or {sec.suppression_key_env}) "
            "from your backup; this key never rotates",
        )
    return key
