"""The delivery loop: each webhook's queue is sent in order, one delivery at a time, signed.

A failed attempt holds the whole queue of that webhook back (so a receiver sees each memory's events in the order
they happened) and retries after an exponentially growing wait; after `webhook_max_failures` failures in a row the
webhook is disabled. A delivery is made at least once: a process that dies mid-send leaves its lease to expire and
the delivery is sent again, under the same X-Mem0-Delivery id for the receiver to recognise."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import aiohttp

from mem0_service.config import Settings
from mem0_service.core.memory import utcnow
from mem0_service.errors import ServiceUnavailable
from mem0_service.stores.base import iso
from mem0_service.webhooks.pinning import PinnedResolver
from mem0_service.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, signed_headers
from mem0_service.webhooks.store import Delivery, Webhook, WebhookStore
from mem0_service.webhooks.targets import TargetRefused, vet

log = logging.getLogger("mem0_service.webhooks")
BATCH = 20  # deliveries sent to one webhook per lease
PRUNE_EVERY = 600  # loop turns between two clean-ups of the delivery log


def payload(delivery: Delivery) -> dict[str, Any]:
    """The JSON body a receiver gets: what the event is, when it happened, and the memory (or work) it is about."""
    data: dict[str, Any] = {"user_id": delivery.user_id, "agent_id": delivery.agent_id,
                            "session_id": delivery.session_id}
    if delivery.event.startswith("memory."):
        data["memory"] = {"id": delivery.memory_id, "user_id": delivery.user_id, "agent_id": delivery.agent_id,
                          "session_id": delivery.session_id, "type": delivery.memory_type,
                          "content": delivery.content, "metadata": delivery.metadata}
        if delivery.event == "memory.updated":
            data["previous_content"] = delivery.previous_content
    else:
        data.update(delivery.data or {})
        if delivery.memory_id:
            data["memory_id"] = delivery.memory_id
    return {"id": delivery.id, "event": delivery.event, "webhook_id": delivery.webhook_id,
            "occurred_at": iso(delivery.occurred_at), "data": data}


def backoff(settings: Settings, failures: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row."""
    return min(settings.webhook_retry_max, settings.webhook_retry_base * 2 ** max(0, failures - 1))


class Dispatcher:
    def __init__(self, store: WebhookStore, settings: Settings, *, interval: float = 0.5):
        self.store, self.settings, self.interval = store, settings, interval
        self.sent = self.failed = 0
        self.resolver = PinnedResolver()

    def client(self) -> aiohttp.ClientSession:
        """The HTTP client deliveries go through: it connects only to the addresses checked just before."""
        # no DNS cache of its own: every new connection asks the resolver for the addresses checked last
        connector = aiohttp.TCPConnector(resolver=self.resolver, use_dns_cache=False)
        return aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout))

    async def run_forever(self) -> None:
        async with self.client() as session:
            turns = 0
            while True:
                try:
                    busy = await self.run_once(session)
                    turns += 1
                    if turns % PRUNE_EVERY == 0:
                        await self.store.prune(utcnow() - timedelta(days=self.settings.webhook_log_days))
                except ServiceUnavailable as exc:
                    busy = False
                    log.warning("webhook deliveries paused: %s", exc.message)
                if not busy:
                    await asyncio.sleep(self.interval)

    async def run_once(self, session: aiohttp.ClientSession) -> bool:
        """Send what is due; True when something was sent, so the loop goes on without waiting."""
        # Long enough for one delivery, renewed before each: a process that dies mid-send holds the queue briefly.
        lease = self.settings.webhook_timeout * 2 + 5
        busy = False
        for hook in await self.store.due(utcnow(), lease_seconds=lease):
            try:
                for delivery in await self.store.pending(hook.id, limit=BATCH):
                    busy = True
                    await self.store.extend(hook.id, utcnow() + timedelta(seconds=lease))
                    if not await self._send(session, hook, delivery):
                        break
            finally:
                await self.store.release(hook.id)
        return busy

    async def _send(self, session: aiohttp.ClientSession, hook: Webhook, delivery: Delivery) -> bool:
        body = json.dumps(payload(delivery), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "mem0-service-webhooks",
                   EVENT_HEADER: delivery.event, DELIVERY_HEADER: delivery.id, **signed_headers(hook.secret, body)}
        status: int | None = None
        try:
            self.resolver.pin(await vet(hook.url, allow_private=self.settings.webhook_allow_private))
            async with session.post(hook.url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status
                await response.read()
            if 200 <= status < 300:
                await self.store.delivered(delivery, response_status=status, now=utcnow())
                self.sent += 1
                return True
            error = f"the receiver answered HTTP {status}"
        except TargetRefused as exc:
            error = f"target refused: {exc}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.failed += 1
        failures = hook.consecutive_failures + 1
        disable = (f"disabled after {failures} failed attempts in a row; last: {error}"
                   if failures >= self.settings.webhook_max_failures else None)
        retry_at = utcnow() + timedelta(seconds=backoff(self.settings, failures))
        await self.store.failed(delivery, response_status=status, error=error, now=utcnow(), retry_at=retry_at,
                                disable=disable)
        log.warning("webhook %s: delivery %s failed (%s)%s", hook.id, delivery.id, error,
                    "; webhook disabled" if disable else f"; retry in {backoff(self.settings, failures):g}s")
        return False
