"""Checks made before a long-running command starts, so a mistake is one `error:` and
`hint:` at once rather than a server that starts and then fails (or never listens)."""

from __future__ import annotations

import errno
import socket

from briefing.errors import BriefingError


def check_can_listen(host: str, port: int) -> None:
    """Bind ``host``:``port`` once, as the server will, and let go: a port in use, one
    below 1024 without the right, or a host that is not an address of this machine is
    refused here. (Another process can still take the port in between; the server then
    reports it in its own words.)"""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BriefingError(
            f"cannot listen on --host {host}: {exc.strerror}",
            "give --host an address of this machine, e.g. 127.0.0.1 (this machine only) "
            "or 0.0.0.0 (every interface)",
        ) from exc
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind(address)
        except OSError as exc:
            raise _bind_error(host, port, exc) from exc


def _bind_error(host: str, port: int, exc: OSError) -> BriefingError:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return BriefingError(
            f"cannot listen on {where}: the port is already in use",
            f"stop what is listening there (`ss -ltnp 'sport = :{port}'` shows it) "
            "or choose another port with --port",
        )
    if exc.errno == errno.EACCES:
        return BriefingError(
            f"cannot listen on {where}: permission denied",
            "ports below 1024 need root; use --port 8000 (or above) behind a reverse proxy",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return BriefingError(
            f"cannot listen on {where}: {host} is not an address of this machine",
            "give --host one of this machine's addresses, e.g. 127.0.0.1 or 0.0.0.0",
        )
    return BriefingError(f"cannot listen on {where}: {exc.strerror}", "check --host and --port")
