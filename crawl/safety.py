"""Where the crawler may go: only a site's allowed hosts, only public addresses.

Every URL (each redirect hop included) passes `check_url` before a connection is made; the
host's DNS answers are checked too, so a public name pointing at 127.0.0.1 or 10.x (DNS
rebinding, an intranet name) is refused unless the site allows private addresses.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


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


async def check_addresses(url: str, allow_private: bool) -> None:
    """Refuse a host any of whose addresses is private, loopback, link-local or reserved."""
    host, port = host_port(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    if not allow_private:
        bad = sorted(a for a in addresses if _private(a))
        if bad:
            raise Refused(f"{host} resolves to a private/loopback/link-local address ({', '.join(bad)})")
