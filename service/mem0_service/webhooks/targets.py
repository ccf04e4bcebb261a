"""Where a webhook may point: http(s) only, and no private, loopback or link-local address unless allowed.

Checked when the webhook is made and again before every delivery, since a name may resolve elsewhere later. The
delivery then connects to the addresses that were checked (see `pinning`), never to those of a second lookup: a
name whose DNS answer changes between the check and the connection (DNS rebinding) cannot reach a private address."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Target:
    """A webhook URL's host and the addresses it resolved to when it was checked: the only ones a delivery uses."""

    host: str
    addresses: tuple[str, ...]


async def _lookup(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def vet(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host once; TargetRefused unless it resolves, and (unless allowed) only to public addresses."""
    host = check_shape(url)
    try:
        addresses = tuple(dict.fromkeys(await _lookup(host)))
    except OSError as exc:
        raise TargetRefused(f"the host {host} does not resolve: {exc}") from None
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    refused = sorted(a for a in addresses if _private(a))
    if refused and not allow_private:
        raise TargetRefused(f"the host {host} resolves to a private, loopback or reserved address ({refused[0]}); "
                            "set MEM0_WEBHOOK_ALLOW_PRIVATE=true to allow it")
    return Target(host, addresses)


async def check_target(url: str, *, allow_private: bool) -> None:
    """TargetRefused unless the URL may receive deliveries (its host resolves, and only to public addresses). With
    private targets allowed, only the URL's shape is checked: a name that resolves later is accepted."""
    if allow_private:
        check_shape(url)
        return
    await vet(url, allow_private=False)
