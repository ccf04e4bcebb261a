"""A budget of failed authentications per client address (MEM0_AUTH_FAILURE_LIMIT): past it, the address gets 429
for every request that needs a key until the budget refills, so guessing keys is slow and a flood of made-up scoped
keys stops costing key-store look-ups.

The client is the TCP peer, or behind a trusted reverse proxy (MEM0_TRUSTED_PROXIES, e.g. Caddy) the address that
proxy forwards in X-Forwarded-For: read from the right, each trusted hop vouches for the one before it, and the first
address that is not a trusted proxy is the client. Without trusted proxies X-Forwarded-For is ignored (any client can
write it). Budgets live in the rate limiter's buckets, shared by the worker processes of one data directory."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from aiohttp import web

from mem0_service.errors import TooManyRequests
from mem0_service.ops.ratelimit import RateLimiter

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def client_address(request: web.Request, trusted: tuple[Network, ...]) -> str:
    peer = request.remote or ""
    if not trusted or not _within(parse_address(peer), trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getall("X-Forwarded-For", []) for hop in header.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:  # not written by a proxy we trust: the hop before it cannot be vouched for
            return peer
        if not _within(address, trusted):
            return str(address)
    return str(parse_address(hops[0])) if hops else peer


def _within(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


class FailedAuthBudget:
    def __init__(self, per_minute: float, trusted: tuple[str, ...], shared_file: Path | None = None):
        self.limiter = RateLimiter(per_minute, max(per_minute, 1.0), shared_file)
        self.trusted = tuple(ipaddress.ip_network(n, strict=False) for n in trusted)

    @property
    def enabled(self) -> bool:
        return self.limiter.enabled

    def close(self) -> None:
        self.limiter.close()

    def refusal(self, request: web.Request) -> TooManyRequests | None:
        """The answer for a request from an address whose budget is spent, before its key is looked at."""
        if not self.enabled:
            return None
        wait = self.limiter.wait(self._key(request))
        if wait <= 0:
            return None
        after = self.limiter.retry_after(wait)
        return TooManyRequests(f"Too many failed authentications from this address; retry in {after} s",
                               headers={"Retry-After": after})

    def spend(self, request: web.Request) -> None:
        """A failed authentication from the request's address."""
        if self.enabled:
            self.limiter.acquire(self._key(request))

    def _key(self, request: web.Request) -> str:
        return "addr:" + client_address(request, self.trusted)
