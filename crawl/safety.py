"""Where the crawler may go: only a site's allowed hosts, only public addresses.

Every URL (each redirect hop included) passes `check_url` before a connection is made; the
host's DNS answers are checked too, so a public name pointing at 127.0.0.1 or 10.x (DNS
rebinding, an intranet name) is refused unless the site allows private addresses.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx


class Refused(Exception):
    """A URL the crawler will not fetch; the message is the recorded reason."""


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url[:200]}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused(f"bad port in {url[:200]}") from exc
    return parts.hostname.lower(), port


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    """`host` in the list allows the host on any port; `host:port` that port only."""
    host, port = host_port(url)
    return host in allowed_hosts or f"{host}:{port}" in allowed_hosts


def check_url(url: str, allowed_hosts: list[str]) -> None:
    if urlsplit(url).username or urlsplit(url).password:
        raise Refused("credentials in the URL")
    if not host_allowed(url, allowed_hosts):
        host, port = host_port(url)
        raise Refused(f"host {host}:{port} is not in allowed_hosts")


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast


async def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The host's addresses; refused when any is private, loopback, link-local or reserved."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))  # an IPv6 sockaddr types it str | int
    if not allow_private:
        bad = sorted(a for a in addresses if _private(a))
        if bad:
            raise Refused(f"{host} resolves to a private/loopback/link-local address ({', '.join(bad)})")
    return addresses


async def check_addresses(url: str, allow_private: bool) -> None:
    """Before a request: a clear refusal naming the URL's host (CheckedBackend enforces it again)."""
    await checked_addresses(*host_port(url), allow_private)


class CheckedBackend(httpcore.AnyIOBackend):
    """The connection goes to an address checked at connect time: the name is resolved here,
    once, so a DNS answer that changes between the check and the connect (rebinding) cannot
    lead the crawler to an intranet address."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        address = (await checked_addresses(host, port, self.allow_private))[0]
        return await super().connect_tcp(address, port, timeout, local_address, socket_options)


def checked_client(allow_private: bool, connections: int) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through CheckedBackend; no proxy or .netrc
    from the environment; redirects are followed by hand (Fetcher.get)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx builds its httpcore pool without a way to pass a network backend: built here instead.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=connections,
        max_keepalive_connections=connections, keepalive_expiry=5.0, network_backend=CheckedBackend(allow_private))
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
