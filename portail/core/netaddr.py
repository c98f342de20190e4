"""Client addresses as throttle keys: IPv6 grouped per /64 (one subscriber) and per /48 (one
allocation), IPv4 as is; and whether a host is the loopback."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


def ip_key(remote_addr: str | None) -> str:
    """Throttle key for a client address; IPv6 is grouped by /64."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return "ip:unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


# How wide an IPv6 subscriber's allocation usually is: a /56 for a home line, a /48 for a
# business or a hosted server. Every /64 in it is a different client to the share, so the
# whole /48 gets its own, wider cap (NETWORK_SHARE_FACTOR times a client's).
IPV6_NETWORK_PREFIX = 48


NETWORK_SHARE_FACTOR = 3


@dataclass(frozen=True)
class ClientKeys:
    """Throttle keys of one address: the client (IPv4, or IPv6 /64) and, for IPv6, its /48."""

    client: str
    network: str | None = None


def client_keys(remote_addr: str | None) -> ClientKeys:
    """The keys under which an address's share of the API budget is counted."""
    client = ip_key(remote_addr)
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return ClientKeys(client)
    if address.version == 6 and address.ipv4_mapped is None:
        network = ipaddress.ip_network(f"{address}/{IPV6_NETWORK_PREFIX}", strict=False)
        return ClientKeys(client, f"net:{network}")
    return ClientKeys(client)


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (with or without a port or brackets)."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
