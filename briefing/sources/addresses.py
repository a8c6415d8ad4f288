"""Which network addresses Briefing may connect to when it follows a URL that came from
outside: the article links the desk's link check follows (they come from feeds), and
URLs a user hands in (``briefing ingest --url``, the desk's Add by URL). Without it, a feed author gets
a port scan of the server's own network ("SSRF").

The API, in one place::

    policy = AddressPolicy.from_settings(settings.fetch)   # fetch.allow_private_addresses
    policy.resolve("example.org", 443)     # -> ["93.184.215.14"], every address checked
    policy.resolve("localhost", 80)        # raises AddressRefused (.reason says why)
    refusal(ipaddress.ip_address("10.0.0.1"))  # -> "a private address" (None if public)

    with policy.client(timeout=10, follow_redirects=True) as client:        # httpx.Client
        client.get(url)
    async with policy.async_client(timeout=5, follow_redirects=True) as client:  # async
        await client.get(url)
    fetch.fetch(url, settings.fetch, policy=policy)   # the feed fetcher, guarded

What is refused (unless ``allow_private``): loopback (127/8, ::1), private (RFC 1918,
fc00::/7), link-local (169.254/16 with the cloud metadata address, fe80::/10), shared
CGNAT space (100.64/10), unspecified, multicast, reserved, and anything else that is not
globally routable; an IPv4 address inside an IPv6 one (::ffff:a.b.c.d, 6to4) is judged by
its IPv4 part. ``allowed_networks`` makes exceptions for named networks.

How: the clients connect through a network backend that resolves the host itself,
checks every address, and connects to an address it checked (never resolving again, so
a DNS answer that changes between check and connect, "DNS rebinding", cannot slip
through). Every connection goes through it, so each redirect hop is checked too. TLS
still verifies the certificate against the URL's host name. Environment proxies are
ignored (``trust_env=False``): a proxy would connect on our behalf, unchecked.
A refusal raises :class:`AddressRefused` out of ``client.get()`` (it is not an
``httpx.HTTPError``); ``fetch.fetch`` turns it into a ``FeedError``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from briefing.config import Fetch
from briefing.errors import BriefingError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]  # (host, port) -> addresses, as strings

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT


class AddressRefused(BriefingError):
    """A URL's host resolved only to addresses the policy refuses."""

    default_hint = (
        "the link points inside this network; set fetch.allow_private_addresses = true "
        "only for local testing"
    )

    def __init__(self, host: str, address: str, why: str) -> None:
        self.host, self.address = host, address
        self.reason = f"refused: {address} is {why}"
        super().__init__(f"{host}: {self.reason}")


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is no address to connect to for a URL from outside; None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return refusal(embedded)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses URLs from outside may reach (see the module docstring)."""

    allow_private: bool = False
    resolver: Resolver | None = None  # a seam for tests; None: the system's resolver
    allowed_networks: Sequence[IPNetwork] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_networks", tuple(self.allowed_networks))

    @classmethod
    def from_settings(cls, settings: Fetch) -> AddressPolicy:
        return cls(allow_private=settings.allow_private_addresses)

    @staticmethod
    def system_resolver(host: str, port: int) -> list[str]:
        """Every address of ``host`` (IPv4 and IPv6), in the resolver's order, once each."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def why_not(self, address: str) -> str | None:
        """The refusal reason for one address (a string), or None when it may be reached."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
        except ValueError:
            return "not an IP address"
        if self.allow_private or any(ip in net for net in self.allowed_networks):
            return None
        return refusal(ip)

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` that may be reached, in order; AddressRefused when
        there are none. A name that does not resolve raises ``httpcore.ConnectError``."""
        try:
            found = (self.resolver or self.system_resolver)(host, port)
        except OSError as exc:  # socket.gaierror and friends
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        allowed = [a for a in found if self.why_not(a) is None]
        if not allowed:
            if not found:
                raise httpcore.ConnectError(f"{host} has no address")
            raise AddressRefused(host, found[0], self.why_not(found[0]) or "refused")
        return allowed

    # --- httpx clients whose every connection is checked -------------------------------------

    def sync_backend(self, inner: httpcore.NetworkBackend | None = None) -> httpcore.NetworkBackend:
        return _GuardedBackend(self, inner or httpcore.SyncBackend())

    def async_backend(
        self, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> httpcore.AsyncNetworkBackend:
        return _AsyncGuardedBackend(self, inner or httpcore.AnyIOBackend())

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` (any of its keyword arguments) that connects only where the
        policy allows."""
        transport = httpx.HTTPTransport(retries=0)
        install_backend(transport, self.sync_backend())
        return httpx.Client(transport=transport, trust_env=False, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(retries=0)
        install_backend(transport, self.async_backend())
        return httpx.AsyncClient(transport=transport, trust_env=False, **kwargs)


def install_backend(
    transport: httpx.HTTPTransport | httpx.AsyncHTTPTransport, backend: Any
) -> None:
    """Put ``backend`` under an httpx transport's connection pool. httpx has no public
    way to pass one; fail loudly (rather than connect unchecked) if its insides change."""
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise RuntimeError(
            "this httpx version hides its connection pool; the address policy cannot be installed"
        )
    pool._network_backend = backend


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, policy: AddressPolicy, inner: httpcore.NetworkBackend) -> None:
        self.policy, self.inner = policy, inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self.policy.resolve(host, port):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the host's next address
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not for URLs from outside")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend) -> None:
        self.policy, self.inner = policy, inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        import anyio.to_thread

        addresses = await anyio.to_thread.run_sync(self.policy.resolve, host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not for URLs from outside")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
