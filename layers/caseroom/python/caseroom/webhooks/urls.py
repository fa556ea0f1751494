"""SSRF guard for webhook URLs, applied at registration AND before every delivery attempt.

A URL must be absolute https, well-formed, without user info, and every address its host
resolves to must be a public unicast address: no private, loopback, link-local, multicast,
reserved, shared or metadata (169.254.169.254, fd00:ec2::254) address. Checking every
resolved address, again at delivery, and then connecting to the checked address (not
resolving again) closes the DNS-rebinding gap. The local stage alone accepts http and https
to 127.0.0.1 so tests can run a receiver on loopback.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass

from caseroom.errors import (
    WebhookUrlForbiddenAddress,
    WebhookUrlMalformed,
    WebhookUrlNotHttps,
    WebhookUrlUnresolvable,
)

MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
LOCAL_LOOPBACK_HOSTS = frozenset({"127.0.0.1"})

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (the TLS server name and Host header)
    port: int
    path: str  # path + query, what the request line carries
    addresses: tuple[str, ...]  # every resolved address, all checked


def parse(url: str, local_stage: bool) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise WebhookUrlMalformed()
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlMalformed() from exc
    host = parts.hostname or ""
    if not parts.scheme or not host or parts.username is not None or parts.password is not None:
        raise WebhookUrlMalformed()
    if parts.fragment:
        raise WebhookUrlMalformed()
    scheme = parts.scheme.lower()
    loopback_allowed = local_stage and host in LOCAL_LOOPBACK_HOSTS
    if scheme != "https" and not (scheme == "http" and loopback_allowed):
        raise WebhookUrlNotHttps() if scheme == "http" else WebhookUrlMalformed()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def forbidden(address: IpAddress, local_stage: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if local_stage and address.is_loopback:
        return False
    return (
        address in METADATA_ADDRESSES
        or not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlUnresolvable() from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookUrlUnresolvable()
    return addresses


def check(url: str, local_stage: bool) -> Target:
    """The checked target of `url`, or a 4xx DomainError naming what is wrong."""
    scheme, host, port, path = parse(url, local_stage)
    addresses = resolve(host, port)
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError as exc:
            raise WebhookUrlForbiddenAddress() from exc
        if forbidden(address, local_stage):
            raise WebhookUrlForbiddenAddress()
    return Target(scheme, host, port, path, tuple(addresses))
