"""Files and folders that hold personal data or secrets (the database and its WAL, the
outbox's .eml files, var/secret): created readable by their owner only, whatever the
umask.

Folders Briefing creates are 0700 and files 0600. A database file that already exists with
wider permissions (an older version, a copy) is tightened when it is opened: it holds
addresses, consent records and argon2 hashes, and nobody else has a reason to read it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Make ``path`` and each missing parent with mode 0700 (``mkdir -p`` would give the
    parents the umask's mode). Folders that already exist are left as they are."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=FOLDER_MODE)
            os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered through the umask


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (so that what opens it next,
    SQLite for instance, finds it private)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, a file that is 0600 from the moment it exists (an
    existing file is narrowed before anything is written into it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def tighten(path: Path) -> None:
    """Take group and other permissions off an existing file we own."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
