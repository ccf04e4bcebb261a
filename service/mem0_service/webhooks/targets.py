"""Where a webhook may point: http(s) only, and no private, loopback or link-local address unless allowed.

Checked when the webhook is made and again before every delivery, since a name may resolve elsewhere later."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    pass


def check_shape(url: str) -> str:
    """The host of a well-formed http(s) URL, or TargetRefused."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http:// and https:// URLs can receive webhooks")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not accepted: the signature authenticates deliveries")
    return parts.hostname


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check_target(url: str, *, allow_private: bool) -> None:
    """TargetRefused unless the URL may receive deliveries (its host resolves, and only to public addresses)."""
    host = check_shape(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"the host {host} does not resolve: {exc}") from None
    addresses = {str(info[4][0]) for info in infos}  # an IP address: the host part of an AF_INET(6) sockaddr
    refused = sorted(address for address in addresses if _private(address))
    if refused:
        raise TargetRefused(f"the host {host} resolves to a private, loopback or reserved address ({refused[0]}); "
                            "set MEM0_WEBHOOK_ALLOW_PRIVATE=true to allow it")
