"""Where the scraper may connect: the address is checked on the socket actually opened.

A feed is written by someone else: its item links, a page's advertised feed and every
redirect could point at the owner's router or a cloud metadata address. Checking a URL's
name before the request is not enough (DNS can answer differently a moment later), so
the check lives in the httpcore network backend: it resolves the name itself, checks
every address it got, and connects to that exact address. TLS still verifies the real
name, because httpcore passes the URL's host to `start_tls` as the server name.

Each configured blog gets its own connection pool whose backend trusts that blog's host
(the owner wrote it) and, for any other host, only public addresses or the addresses the
blog's own host resolves to; a pooled connection is therefore never reused under a
looser rule than the one it was opened with.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import typing
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager

import anyio
import httpcore
import httpx

from app.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IsPublic = Callable[[IPAddress], bool]
TRUSTED_HOST = "hearth_trusted_host"  # request extension: the configured URL's host
TRUSTED_TTL_S = 300.0
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeAddressError(FetchError):
    """A URL the scraper met resolves to an address it must not reach."""


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def kind(address: IPAddress) -> str | None:
    """Why an address is not public ("loopback", "private", ...), None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None and kind(inner) is not None:
            return kind(inner)
    checks = (
        (address in METADATA, "cloud metadata"),
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    return next((name for hit, name in checks if hit), None)


def is_public(address: IPAddress) -> bool:
    return kind(address) is None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` has, in the resolver's order; an IP literal is itself."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only where the trust scope of one configured blog allows."""

    def __init__(self, trusted_host: str, is_public: IsPublic) -> None:
        self._trusted_host = trusted_host.lower()
        self._is_public = is_public
        self._inner = httpcore.AnyIOBackend()
        self._trusted: tuple[list[IPAddress], float] = ([], 0.0)

    async def _trusted_addresses(self, port: int) -> list[IPAddress]:
        addresses, expires = self._trusted
        if expires < time.monotonic():
            try:
                addresses = await resolve(self._trusted_host, port)
            except httpcore.ConnectError:
                addresses = []
            self._trusted = (addresses, time.monotonic() + TRUSTED_TTL_S)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        if host.lower().strip("[]") != self._trusted_host.strip("[]"):
            same_host = await self._trusted_addresses(port)
            for address in addresses:
                if not (self._is_public(address) or address in same_host):
                    why = kind(address) or "refused"
                    raise UnsafeAddressError(
                        f"refused: {host} resolves to {address} ({why}), which is neither "
                        f"public nor the address of the configured host {self._trusted_host}"
                    )
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ARG002 - httpcore's signature
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeAddressError(f"refused: the scraper never opens local sockets ({path})")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's errors as httpx's classes of the same name, as httpx's own transport does."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        mapped = getattr(httpx, type(exc).__name__, httpx.TimeoutException)
        raise mapped(str(exc)) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        mapped = getattr(httpx, type(exc).__name__, httpx.TransportError)
        raise mapped(str(exc)) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx transport with one guarded pool per trusted host; a request without one fails."""

    def __init__(self, *, is_public: IsPublic = is_public) -> None:
        self._is_public = is_public
        self._ssl = httpx.create_ssl_context()
        self._pools: dict[str, httpcore.AsyncConnectionPool] = {}

    def _pool(self, trusted_host: str) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(trusted_host)
        if pool is None:
            pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl,
                max_connections=10,
                keepalive_expiry=5.0,
                network_backend=GuardedBackend(trusted_host, self._is_public),
            )
            self._pools[trusted_host] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trusted_host = request.extensions.get(TRUSTED_HOST)
        if not isinstance(trusted_host, str) or not trusted_host:
            raise UnsafeAddressError(f"refused: {request.url} has no configured URL to trust")
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = await self._pool(trusted_host.lower()).handle_async_request(core)
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
