"""Operational endpoints: readiness (deep health), Prometheus metrics; and the wiring of keys, limits and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from mem0_service import __version__
from mem0_service.api.responses import json_response
from mem0_service.auth import Authenticator
from mem0_service.core.memory import utcnow
from mem0_service.errors import ApiError, ServiceUnavailable
from mem0_service.keys.store import KeyStore
from mem0_service.ops.auth_failures import FailedAuthBudget
from mem0_service.ops.ratelimit import RateLimiter
from mem0_service.ops.state import (
    AUTH_FAILURES,
    AUTHENTICATOR,
    KEY_STORE,
    METRICS,
    RATE_LIMITER,
)
from mem0_service.state import JOBS, RECORDS, SERVICE, SETTINGS
from mem0_service.stores.base import iso

log = logging.getLogger("mem0_service.ops")
# An embedding call costs money on a paid provider: a passing embedder check is trusted this long.
EMBEDDER_CHECK_TTL = 30.0
# Quarantined memories named in readiness and metrics (all of them: `mem0-service quarantine list`).
SHOWN_QUARANTINE = 20


class CheckOut(BaseModel):
    status: str
    latency_ms: float
    error: str | None = None


class QuarantinedOut(BaseModel):
    memory_id: str
    user_id: str | None
    op: str
    cause: str
    quarantined_at: str


class ReadinessResponse(BaseModel):
    status: str
    version: str
    timestamp: str
    checks: dict[str, CheckOut]
    index_backlog: int | None = None
    failing: list[str] = []
    quarantined: int | None = Field(None, description="Memories whose index work failed for them alone and waits "
                                                      "for `mem0-service quarantine retry|drop`")
    quarantine: list[QuarantinedOut] = Field([], description=f"The first {SHOWN_QUARANTINE} of them")
    jobs: JobsOut | None = Field(None, description="The background job queue (asynchronous adds)")


class JobsOut(BaseModel):
    queued: int
    running: int
    dead_letters: int = Field(description="Jobs that gave up (status failed, with the cause at GET /api/events/{id}); "
                                          "a growing count means the chat model keeps failing")
    oldest_age_seconds: float | None = Field(None, description="Age of the oldest job still queued or running")


async def jobs_report(store) -> JobsOut:
    stats = await store.job_stats()
    age = (utcnow() - stats.oldest_open_at).total_seconds() if stats.oldest_open_at else None
    return JobsOut(queued=stats.queued, running=stats.running, dead_letters=stats.failed,
                   oldest_age_seconds=round(age, 3) if age is not None else None)


async def quarantine_report(store) -> tuple[int, list[QuarantinedOut]]:
    entries = await store.quarantined(SHOWN_QUARANTINE)
    count = len(entries) if len(entries) < SHOWN_QUARANTINE else await store.count_quarantined()
    return count, [QuarantinedOut(memory_id=e.memory_id, user_id=e.user_id, op=e.op, cause=e.cause,
                                  quarantined_at=iso(e.quarantined_at)) for e in entries]


async def _check(name: str, probe: Callable[[], Awaitable[Any]], timeout: float) -> tuple[str, CheckOut]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
        return name, CheckOut(status="ok", latency_ms=round((time.perf_counter() - started) * 1e3, 1))
    except asyncio.TimeoutError:
        error = f"no answer within {timeout:g} s"
    except ServiceUnavailable as exc:
        error = exc.message
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    return name, CheckOut(status="unavailable", latency_ms=round((time.perf_counter() - started) * 1e3, 1),
                          error=error[:300])


async def readiness(request: web.Request) -> web.Response:
    """GET /api/ready and GET /api/health?deep=1: every dependency answers, or 503 naming the ones that don't."""
    service = request.app[SERVICE]
    timeout = request.app[SETTINGS].health_timeout
    state = request.app.setdefault("embedder_checked_at", {"at": 0.0})

    async def embedder_probe() -> None:
        if time.monotonic() - state["at"] < EMBEDDER_CHECK_TTL:
            return
        await service.embedder.embed_one("health check")
        state["at"] = time.monotonic()

    results = dict(await asyncio.gather(
        _check("record_store", service.store.ping, timeout),
        _check("vector_index", service.index.ping, timeout),
        _check("embedder", embedder_probe, timeout)))
    failing = [name for name, check in results.items() if check.status != "ok"]
    if "embedder" in failing:
        state["at"] = 0.0
    quarantine: list[QuarantinedOut] = []
    quarantined, jobs = None, None
    if "record_store" not in failing:
        try:
            quarantined, quarantine = await asyncio.wait_for(quarantine_report(service.store), timeout)
        except (asyncio.TimeoutError, ServiceUnavailable) as exc:
            log.warning("readiness could not read the index quarantine: %s", getattr(exc, "message", exc))
        try:
            jobs = await asyncio.wait_for(jobs_report(service.store), timeout)
        except (asyncio.TimeoutError, ServiceUnavailable) as exc:
            log.warning("readiness could not read the job queue: %s", getattr(exc, "message", exc))
    body = ReadinessResponse(status="ok" if not failing else "unavailable", version=__version__,
                             timestamp=iso(utcnow()).split(".")[0] + "Z", checks=results,
                             index_backlog=service.indexer.backlog, failing=failing, quarantined=quarantined,
                             quarantine=quarantine, jobs=jobs)
    if not failing:
        return json_response(body)
    message = "; ".join(f"{name} unavailable: {results[name].error}" for name in failing)
    payload = {"error": "Service Unavailable", "message": message, "dependency": failing[0],
               **body.model_dump()}
    return json_response(payload, status=503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text format (the route table asks an admin key unless MEM0_METRICS_PUBLIC=true)."""
    service = request.app[SERVICE]
    metrics = request.app[METRICS]
    gauges: dict[str, tuple[str, list[tuple[dict[str, str], float]]]] = {
        "mem0_build_info": ("Version and backends of this service", [({
            "version": __version__, "records": getattr(service.store, "name", "?"),
            "vectors": getattr(service.index, "name", "?"), "embedder": str(service.embedder.name)}, 1)]),
        "mem0_uptime_seconds": ("Seconds since the service started", [({}, round(time.time() - metrics.started, 3))]),
        "mem0_index_backlog": ("Record changes the vector index has not applied yet (as of the last sync)",
                               [({}, service.indexer.backlog)]),
    }

    async def gauge(name: str, text: str, probe: Callable[[], Awaitable[float]]) -> None:
        try:
            gauges[name] = (text, [({}, float(await asyncio.wait_for(probe(), 5)))])
        except (asyncio.TimeoutError, ApiError):
            pass  # a dependency that cannot answer leaves its gauge out; its errors are counted elsewhere

    await gauge("mem0_memories", "Memories in the record store", service.store.count)
    await gauge("mem0_vectors", "Vectors in the vector index", service.index.count)
    await gauge("mem0_index_outbox", "Pending index operations in the record store's outbox",
                service.store.count_pending_index_ops)
    if service.webhooks is not None:
        await gauge("mem0_webhook_deliveries_pending", "Webhook deliveries not made yet (queued or being retried)",
                    service.webhooks.pending_count)
        await gauge("mem0_webhooks_disabled", "Webhooks disabled after repeated failed deliveries",
                    service.webhooks.disabled_count)
    try:
        count, entries = await asyncio.wait_for(quarantine_report(service.store), 5)
        gauges["mem0_index_quarantined"] = ("Memories whose index work is quarantined (mem0-service quarantine list)",
                                            [({}, count)])
        gauges["mem0_index_quarantined_memory"] = (
            f"1 for each quarantined memory (the first {SHOWN_QUARANTINE})",
            [({"memory_id": e.memory_id, "user_id": e.user_id or "", "op": e.op}, 1) for e in entries])
    except (asyncio.TimeoutError, ApiError):
        pass  # the record store cannot answer: its errors are counted elsewhere
    try:
        jobs = await asyncio.wait_for(jobs_report(service.store), 5)
        gauges["mem0_jobs"] = ("Background jobs by status (failed: dead letters, kept with their cause)", [
            ({"status": "queued"}, jobs.queued), ({"status": "running"}, jobs.running),
            ({"status": "failed"}, jobs.dead_letters)])
        gauges["mem0_jobs_oldest_age_seconds"] = ("Age of the oldest job still queued or running (0: none)",
                                                  [({}, jobs.oldest_age_seconds or 0.0)])
    except (asyncio.TimeoutError, ApiError):
        pass  # the record store cannot answer: its errors are counted elsewhere
    if JOBS in request.app:
        runs = request.app[JOBS].stats
        gauges["mem0_job_runs"] = ("Job runs of this process since start, by outcome", [
            ({"outcome": "done"}, runs.completed), ({"outcome": "retried"}, runs.retried),
            ({"outcome": "dead_letter"}, runs.dead_lettered)])
    sweeps = getattr(service, "sweeps", None)
    if sweeps is not None:
        gauges["mem0_sweeper_runs"] = ("Sweeper runs since start", [({}, sweeps.runs)])
        gauges["mem0_sweeper_removed"] = ("Memories removed by the sweeper since start", [
            ({"reason": "expired"}, sweeps.expired_removed),
            ({"reason": "idle_session"}, sweeps.session_memories_removed)])
        gauges["mem0_sweeper_messages_removed"] = ("Logged messages of idle sessions cleared by the sweeper since start",
                                                   [({}, sweeps.session_messages_removed)])
        gauges["mem0_sweeper_idempotency_expired"] = (
            "Idempotency-Keys dropped by the sweeper since start, older than MEM0_IDEMPOTENCY_TTL",
            [({}, sweeps.idempotency_expired)])
        gauges["mem0_sweeper_failing"] = ("1 when the sweeper's last run failed", [({}, int(bool(sweeps.last_error)))])
    return web.Response(body=metrics.render(gauges).encode(), headers={
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store"})


async def _operations_context(app: web.Application) -> AsyncIterator[None]:
    """After the backends are open: the scoped keys are a table of the record store."""
    keys = KeyStore(app[RECORDS])
    app[KEY_STORE] = keys
    app[AUTHENTICATOR] = Authenticator(app[SETTINGS].api_keys, keys, app[SETTINGS].key_cache_seconds)
    try:
        yield
    finally:
        app[RATE_LIMITER].close()
        app[AUTH_FAILURES].close()


def setup_operations(app: web.Application) -> None:
    """Register operational state on an application whose cleanup context opens the MemoryService first."""
    settings = app[SETTINGS]
    # worker processes of one pool draw on one budget per key, kept in the data directory they share
    shared = settings.data_dir / "ratelimit.buckets" if settings.workers > 1 else None
    app[RATE_LIMITER] = RateLimiter(settings.rate_limit, settings.rate_limit_bucket, shared)
    app[AUTH_FAILURES] = FailedAuthBudget(settings.auth_failure_limit, settings.trusted_proxies,
                                          settings.data_dir / "authfail.buckets" if settings.workers > 1 else None)
    app.cleanup_ctx.append(_operations_context)
