"""The address policy for URLs from outside (briefing.sources.addresses), with real local
HTTP servers: loopback, private and link-local addresses are refused after DNS
resolution and after each redirect, the connection goes to the very address that was
checked, and ``allow_private`` (fetch.allow_private_addresses) lets them through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from briefing.config import Fetch
from briefing.errors import FeedError
from briefing.sources import fetch as fetch_module
from briefing.sources.addresses import AddressPolicy, AddressRefused, refusal

PUBLIC_NAME = "feeds.example.net"  # a name no real resolver knows here: only the seam does


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("fd00::1", "a private address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("240.0.0.1", "a reserved address"),
    ],
)
def test_internal_addresses_are_refused_with_their_kind(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_names_are_checked_after_resolution() -> None:
    policy = AddressPolicy(resolver=lambda host, port: ["127.0.0.1"])
    with pytest.raises(AddressRefused) as info:
        policy.resolve("intranet.example.org", 80)
    assert info.value.reason == "refused: 127.0.0.1 is a loopback address"
    # a name resolving to one public and one internal address: only the public one is used
    mixed = AddressPolicy(resolver=lambda host, port: ["10.0.0.5", "93.184.215.14"])
    assert mixed.resolve("mixed.example.org", 80) == ["93.184.215.14"]
    assert AddressPolicy(allow_private=True, resolver=lambda h, p: ["10.0.0.5"]).resolve(
        "x.example.org", 80
    ) == ["10.0.0.5"]


class Redirector:
    """A real HTTP server on 127.0.0.2 (a loopback address of its own) that redirects
    every request to ``target``."""

    def __init__(self, target: str) -> None:
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _go(self) -> None:
                owner.hits += 1
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = _go

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def redirector(http_server: Any) -> Iterator[Redirector]:
    http_server.add("/inside", body=b"internal", headers={"Content-Type": "text/plain"})
    server = Redirector(http_server.url("/inside"))
    try:
        yield server
    finally:
        server.close()


def outside_policy(**kwargs: Any) -> AddressPolicy:
    """PUBLIC_NAME resolves to 127.0.0.2, which this policy treats as an outside address;
    everything else is resolved for real and judged by the normal rules."""
    return AddressPolicy(
        resolver=lambda host, port: (
            ["127.0.0.2"] if host == PUBLIC_NAME else AddressPolicy.system_resolver(host, port)
        ),
        allowed_networks=[ipaddress.ip_network("127.0.0.2/32")],
        **kwargs,
    )


# --- the async client (the desk's link check) -----------------------------------------------


def test_async_client_refuses_loopback_by_default_and_follows_it_with_the_switch(
    http_server: Any,
) -> None:
    http_server.add("/page", body=b"ok", headers={"Content-Type": "text/plain"})

    async def get(policy: AddressPolicy) -> int:
        async with policy.async_client(timeout=5, follow_redirects=True) as client:
            return (await client.get(http_server.url("/page"))).status_code

    with pytest.raises(AddressRefused):
        asyncio.run(get(AddressPolicy()))
    assert http_server.requests_for("/page") == []
    assert asyncio.run(get(AddressPolicy(allow_private=True))) == 200
    assert len(http_server.requests_for("/page")) == 1


def test_async_client_refuses_a_redirect_to_loopback(
    redirector: Redirector, http_server: Any
) -> None:
    async def get() -> int:
        async with outside_policy().async_client(timeout=5, follow_redirects=True) as client:
            return (await client.get(f"http://{PUBLIC_NAME}:{redirector.port}/story")).status_code

    with pytest.raises(AddressRefused) as info:
        asyncio.run(get())
    assert "127.0.0.1 is a loopback address" in info.value.reason
    assert redirector.hits == 1  # the outside host was reached ...
    assert http_server.requests_for("/inside") == []  # ... the inside one never


def test_connections_go_to_the_checked_address_not_a_second_lookup(
    http_server: Any,
) -> None:
    """The name exists only in the seam: the request can only work if the client connects
    to the address the policy resolved and checked (so DNS cannot change in between)."""
    http_server.add("/named", body=b"ok", headers={"Content-Type": "text/plain"})
    policy = AddressPolicy(allow_private=True, resolver=lambda host, port: ["127.0.0.1"])
    url = f"http://only-in-the-seam.invalid:{http_server.port}/named"

    async def get() -> int:
        async with policy.async_client(timeout=5) as client:
            return (await client.get(url)).status_code

    assert asyncio.run(get()) == 200
    (hit,) = http_server.requests_for("/named")
    assert hit.headers["Host"] == f"only-in-the-seam.invalid:{http_server.port}"


# --- the sync client (fetch; Step 8's ingest --url) -------------------------------------------


def test_fetch_with_a_policy_refuses_loopback_and_redirects_to_it(
    redirector: Redirector, http_server: Any
) -> None:
    http_server.add("/feed.xml", body=b"<rss/>", headers={"Content-Type": "text/xml"})
    settings = Fetch()
    with pytest.raises(FeedError) as info:
        fetch_module.fetch(http_server.url("/feed.xml"), settings, policy=AddressPolicy())
    assert "127.0.0.1 is a loopback address" in info.value.reason
    with pytest.raises(FeedError) as info:
        fetch_module.fetch(
            f"http://{PUBLIC_NAME}:{redirector.port}/feed", settings, policy=outside_policy()
        )
    assert "127.0.0.1 is a loopback address" in info.value.reason
    assert http_server.requests_for("/feed.xml") == [] and http_server.requests_for("/inside") == []
    allowed = fetch_module.fetch(
        http_server.url("/feed.xml"), settings, policy=AddressPolicy(allow_private=True)
    )
    assert allowed.content == b"<rss/>"
    # without a policy (the operator's own feeds) nothing changes
    assert fetch_module.fetch(http_server.url("/feed.xml"), settings).content == b"<rss/>"


def test_the_policy_comes_from_the_config() -> None:
    assert not AddressPolicy.from_settings(Fetch()).allow_private
    assert AddressPolicy.from_settings(Fetch(allow_private_addresses=True)).allow_private


def test_a_guarded_sync_client_refuses_loopback(http_server: Any) -> None:
    http_server.add("/x", body=b"ok")
    with AddressPolicy().client(timeout=5) as client, pytest.raises(AddressRefused):
        client.get(http_server.url("/x"))
    with AddressPolicy(allow_private=True).client(timeout=5) as client:
        assert client.get(http_server.url("/x")).status_code == 200
    assert isinstance(AddressPolicy().client(), httpx.Client)
