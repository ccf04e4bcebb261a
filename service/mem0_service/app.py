"""The application factory: settings in, a ready aiohttp application out (used by `serve` and by tests)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from mem0_service.api.boundary import answer_parser_errors_in_json, boundary_middleware
from mem0_service.api.openapi import build_openapi, openapi_handler
from mem0_service.api.ops import setup_operations
from mem0_service.api.policy import Route, setup_routes
from mem0_service.api.routes import CONSOLE_ROUTES, ROUTES
from mem0_service.backends import open_dependencies
from mem0_service.config import Settings
from mem0_service.core.job_runner import JobRunner, JobSettings
from mem0_service.mcp.http import setup_mcp
from mem0_service.metrics import new_registry
from mem0_service.middlewares import access_middleware, cors_middleware, errors_middleware, metrics_middleware
from mem0_service.ops.state import METRICS
from mem0_service.state import JOBS, RECORDS, SERVICE, SETTINGS
from mem0_service.webhooks.extraction import announce_extractions
from mem0_service.webhooks.setup import setup_webhooks

log = logging.getLogger("mem0_service")


BACKGROUND = web.AppKey("background", bool)
RUN_JOBS = web.AppKey("run_jobs", bool)


async def _service_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with open_dependencies(settings) as backends:
        app[RECORDS] = backends.store
        service = app[SERVICE] = backends.timed(app[METRICS]).service(settings)
        runner = app[JOBS] = JobRunner(service, JobSettings(
            lease=settings.job_lease, max_attempts=settings.job_max_attempts, backoff=settings.job_backoff,
            poll=settings.job_poll, rescan=settings.job_rescan,
            retention=settings.job_retention))
        runner.listeners.append(announce_extractions(service))
        tasks = []
        if app[BACKGROUND]:
            await service.repair_index()
            tasks = [asyncio.create_task(service.indexer.run_forever(), name="index-repair"),
                     asyncio.create_task(service.run_sweeper(settings.sweep_interval), name="sweeper"),
                     asyncio.create_task(runner.rescan_forever(), name="parked-extractions")]
        if app[BACKGROUND] or app[RUN_JOBS]:
            # every process of a pool works the queue: the record store hands each job to one of them
            tasks.append(asyncio.create_task(runner.run_forever(), name="jobs"))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_app(settings: Settings, *, background: bool = True, jobs: bool = True) -> web.Application:
    """Everything the application needs is passed in (nothing is read from the environment here).
    `background=False` for the extra processes of a worker pool: one process repairs and sweeps for all; they
    still work the job queue unless `jobs=False`."""
    settings = settings.ensure_api_key()
    app = web.Application(middlewares=[metrics_middleware, cors_middleware, errors_middleware, boundary_middleware,
                                       access_middleware], client_max_size=settings.max_body_bytes)
    answer_parser_errors_in_json(app)
    app[SETTINGS] = settings
    app[BACKGROUND] = background
    app[RUN_JOBS] = jobs
    app[METRICS] = new_registry()
    # The document describes the API; it is served under the same policy table but is not part of itself.
    document = Route("GET", "/api/openapi.json", openapi_handler(build_openapi(ROUTES)), "This OpenAPI document",
                     "health", None, access="public")
    setup_routes(app, [*ROUTES, document, *(CONSOLE_ROUTES if settings.ui else [])])
    app.cleanup_ctx.append(_service_context)
    setup_operations(app)  # keys, rate limits, metrics: after the backends are open
    setup_webhooks(app, deliver=background)
    setup_mcp(app)
    return app
