"""Where a webhook may connect: http(s) URLs whose host resolves only to public addresses.

The sender connects to the address that was checked (never resolving the name a second time),
so a name that changes its answer between the check and the connection gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL may not be called; the message says why (shown to the user)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL split for sending: connect to `address`, speak to `host` (Host header, TLS name)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def connect_url(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{address}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def is_public(address: IPAddress) -> bool:
    """False for private, loopback, link-local (cloud metadata), reserved and multicast
    addresses, also when an IPv6 address carries an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not address.is_multicast


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL, or UnsafeUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("The URL is not valid") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("Only http and https URLs are allowed")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("The URL must not carry credentials")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Check the URL and resolve its host; every address must be public unless allowed."""
    scheme, host, port, path = split_url(url)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrl(f"The host {host!r} cannot be resolved") from exc
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UnsafeUrl(f"The host {host!r} cannot be resolved") from None
    if not allow_private:
        refused = [str(address) for address in addresses if not is_public(address)]
        if refused:
            raise UnsafeUrl(
                f"The host {host!r} is a private, loopback or link-local address "
                f"({', '.join(refused)})"
            )
    return Target(scheme=scheme, host=host, port=port, address=str(addresses[0]), path=path)
