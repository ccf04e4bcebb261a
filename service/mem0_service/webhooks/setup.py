"""Open the webhook store next to the records and, in the process that does background work, deliver."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from mem0_service.state import RECORDS, SERVICE, SETTINGS
from mem0_service.webhooks.dispatcher import Dispatcher
from mem0_service.webhooks.store import WebhookStore, open_webhook_store

WEBHOOK_STORE = web.AppKey("webhook_store", WebhookStore)
DISPATCHER = web.AppKey("webhook_dispatcher", Dispatcher)


def setup_webhooks(app: web.Application, *, deliver: bool) -> None:
    async def context(app: web.Application) -> AsyncIterator[None]:
        store = open_webhook_store(app[RECORDS])
        await store.open()
        app[WEBHOOK_STORE] = store
        app[SERVICE].webhooks = store
        task = None
        if deliver:
            app[DISPATCHER] = Dispatcher(store, app[SETTINGS])
            task = asyncio.create_task(app[DISPATCHER].run_forever(), name="webhook-deliveries")
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await store.close()

    app.cleanup_ctx.append(context)
