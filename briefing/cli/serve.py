"""`briefing serve`: the web app (subscribe form, links in the emails, the desk)."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from briefing.cli.app import cli, err_console, global_options, state


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    default=None,
    help="Comma-separated addresses or networks of the reverse proxies whose "
    "X-Forwarded-For is believed (overrides web.forwarded_allow_ips).",
)
@click.option(
    "--new-secret",
    is_flag=True,
    help="Accept a signing secret that leaves out the one used last (old links break).",
)
@global_options
def serve(host: str, port: int, forwarded_allow_ips: str | None, new_secret: bool) -> None:
    """Run the web app: subscribe form, confirmation, one-click unsubscribe, preferences.

    \b
    Example:
        briefing serve --port 8000    # then open http://127.0.0.1:8000/
        briefing serve --forwarded-allow-ips 127.0.0.1   # behind a proxy on this machine
    """
    import uvicorn

    from briefing.cli.preflight import check_can_listen
    from briefing.services import erasure, keyring
    from briefing.services.storage import check_writable
    from briefing.web.app import create_app
    from briefing.web.server import uvicorn_config, warnings_for

    st = state()
    if forwarded_allow_ips is not None:
        st.overrides.setdefault("web", {})["forwarded_allow_ips"] = forwarded_allow_ips
    settings = st.settings()
    for warning in warnings_for(settings, host):
        err_console.print(f"warning: {escape(warning)}")
    check_writable(st.engine())  # a read-only database: refuse now, not 500 on each write
    check_can_listen(host, port)
    for warning in keyring.check_signing(settings, st.engine(), accept_new=new_secret):
        err_console.print(f"warning: {escape(warning)}")
    erasure.expire_requests(settings, st.engine())
    app = create_app(settings, st.engine())
    trusted = ", ".join(settings.web.forwarded_allow_ips) or "none"
    err_console.print(
        f"serving on http://{host}:{port}/ (public base_url: {settings.newsletter.base_url}; "
        f"trusted proxies: {escape(trusted)})"
    )
    server = uvicorn.Server(uvicorn_config(app, settings, host=host, port=port))
    server.run()
    if not server.started:  # the port was taken or the address is not this machine's
        sys.exit(3)
