"""The folder transport (``outbox://DIR``): a Maildir-style folder of .eml files.

The URL scheme stays ``outbox://`` (a contract of delivery.url and --transport); the
class is FolderTransport, not to be confused with the database outbox of a send."""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from briefing.deliver.transports.base import DeliveryError
from briefing.private import FILE_MODE, private_dir

OUTBOX_HINT = (
    "the outbox folder (delivery.url or --transport outbox://DIR) must be a folder this user "
    "can write; outbox:///absolute/path or outbox://relative/path (from the config's folder)"
)


@dataclass
class FolderTransport:
    """Writes each message as a file: tmp/ first, then renamed into new/ (atomic)."""

    folder: Path
    url: str = ""
    _prepared: bytes | None = None

    def __post_init__(self) -> None:
        self.url = self.url or f"outbox://{self.folder}"
        try:
            for sub in ("tmp", "new", "cur"):  # the messages hold addresses: owner only
                private_dir(self.folder / sub)
        except OSError as exc:
            raise DeliveryError(
                f"cannot use the outbox folder {self.folder}: {exc.strerror or exc}", OUTBOX_HINT
            ) from exc

    def check(self) -> None:
        """Write, move and remove a probe file, as a message is: a folder that cannot take
        messages is found before a send starts, not by the senders."""
        probe = f".probe.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        try:
            os.close(os.open(self.folder / "tmp" / probe, os.O_WRONLY | os.O_CREAT, FILE_MODE))
            os.replace(self.folder / "tmp" / probe, self.folder / "new" / probe)
            (self.folder / "new" / probe).unlink()
        except OSError as exc:
            with contextlib.suppress(OSError):
                (self.folder / "tmp" / probe).unlink()
            raise DeliveryError(
                f"cannot write to the outbox folder {self.folder}: {exc.strerror or exc}",
                OUTBOX_HINT,
            ) from exc

    def prepare(self, sender: str, recipient: str, message: bytes) -> None:
        self._prepared = message

    def complete(self, recipient: str, then: tuple[str, str] | None = None) -> None:
        message, self._prepared = self._prepared, None
        if message is not None:
            self.send("", recipient, message)

    def abandon(self) -> None:
        self._prepared = None

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        name = f"{time.time_ns()}.{uuid.uuid4().hex[:12]}.{socket.gethostname()}.eml"
        tmp = self.folder / "tmp" / name
        try:
            with os.fdopen(
                os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb"
            ) as fh:
                fh.write(message)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / "new" / name)
        except OSError as exc:  # the folder, not the message: every message would fail
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise DeliveryError(
                f"cannot write to the outbox folder {self.folder}: {exc.strerror or exc}",
                OUTBOX_HINT,
            ) from exc

    def close(self) -> None:
        pass
