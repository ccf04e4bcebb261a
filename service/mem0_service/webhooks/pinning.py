"""A resolver for the delivery client that answers only with the addresses a target was vetted with.

The connection then goes to an address that was checked, while the URL keeps its host name: the Host header and,
for https, the TLS server name (SNI) and certificate check are the name's, as with an ordinary lookup."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from mem0_service.webhooks.targets import Target


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ipaddress.ip_address(address.split("%", 1)[0]).version == 6 else socket.AF_INET


class PinnedResolver(AbstractResolver):
    """Never asks DNS: a host resolves to what `pin` last recorded for it, or not at all."""

    def __init__(self) -> None:
        self._pins: dict[str, tuple[str, ...]] = {}

    def pin(self, target: Target) -> None:
        self._pins[target.host] = target.addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = [ResolveResult(hostname=host, host=address, port=port, family=_family(address), proto=0,
                               flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)
                 for address in self._pins.get(host, ())
                 if family == socket.AF_UNSPEC or _family(address) == family]
        if not found:
            raise OSError(f"the host {host} was not checked before this connection")
        return found

    async def close(self) -> None:
        """Nothing to release."""
