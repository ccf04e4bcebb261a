"""Idempotency-Key: a retried create gets the first answer instead of doing the work twice.

The key is reserved in the record store before the work starts, so of two concurrent requests with one key only
one does the work; the other waits for its answer and replays it. A key remembers a fingerprint of the request
it was first used with: reusing it for another request is a client error (422), as in the IETF
idempotency-key draft, not a silent replay of an unrelated answer.

A stored answer shows memories, so it is the user's data: it is kept with the owners of what it shows, and erasing
one of those memories or their user drops it. A retry after that is a new request (a fresh create), never a
replay of the erased content. Answers are not kept for good either: the sweeper drops keys older than
MEM0_IDEMPOTENCY_TTL, after which a retry is a new request too."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Final

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from mem0_service.auth import Principal
from mem0_service.core.memory import Memory
from mem0_service.core.ports import IdempotentOwner
from mem0_service.errors import BadRequest, Conflict, PayloadTooLarge, ServiceUnavailable, UnprocessableContent
from mem0_service.state import SERVICE, SETTINGS

log = logging.getLogger("mem0_service.idempotency")
HEADER: Final = "Idempotency-Key"  # Final: a field alias must be a literal
# A reservation whose answer never came (the process crashed mid-request) is taken over after this long.
LEASE_SECONDS = 60.0
MAX_KEY_CHARS = 255
# How long a duplicate waits for the first request's answer before asking the client to retry later.
WAIT_SECONDS = 30.0

# An answer, and whose content it shows.
Answer = tuple[web.Response, Collection[IdempotentOwner]]


def shown(memories: Iterable[Memory]) -> list[IdempotentOwner]:
    return [IdempotentOwner(m.user_id, m.agent_id, m.id) for m in memories]


class IdempotencyHeaders(BaseModel):
    """Request headers of an idempotent create (OpenAPI only)."""

    model_config = ConfigDict(populate_by_name=True)
    idempotency_key: str | None = Field(None, alias=HEADER, max_length=MAX_KEY_CHARS,
                                        description="Retries with this key replay the first answer (a concurrent "
                                                    "one waits for it); reused with another body: 422")


async def fingerprint(request: web.Request) -> str:
    """Method, path with query and the exact body bytes: the same retry sends the same bytes."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"Request body is larger than {request.app[SETTINGS].max_body_bytes} bytes") from None
    digest = hashlib.sha256(f"{request.method}\n{request.path_qs}\n".encode())
    digest.update(body)
    return digest.hexdigest()


async def idempotent(request: web.Request, who: Principal, work: Callable[[], Awaitable[Answer]]) -> web.Response:
    """Run `work` once per Idempotency-Key (per caller: one tenant's key never replays another's answer)."""
    raw = request.headers.get(HEADER, "").strip()
    if not raw:
        response, _ = await work()
        return response
    if len(raw) > MAX_KEY_CHARS:
        raise BadRequest(f"The {HEADER} header must be at most {MAX_KEY_CHARS} characters", field=HEADER)
    key = f"{who.key_id or who.role}:{raw}"
    mine = await fingerprint(request)
    store = request.app[SERVICE].store
    deadline, delay = time.monotonic() + WAIT_SECONDS, 0.02
    while True:
        state = await store.reserve_idempotent(key, mine, lease_seconds=LEASE_SECONDS)
        if state.fingerprint and state.fingerprint != mine:
            raise UnprocessableContent(f"The {HEADER} was already used with a different request (method, path or "
                                       "body); use a new key for a new request", field=HEADER)
        if state.state == "done":
            return web.Response(text=state.body, status=state.status, content_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        if state.state == "reserved":
            break
        if time.monotonic() > deadline:
            raise Conflict(f"A request with this {HEADER} is still being processed; retry later", field=HEADER,
                           headers={"Retry-After": "1"})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)
    # The reservation is this request's by its time: if it expired while the work ran and another request reserved
    # the key afresh, finishing this one leaves the other's reservation (or answer) alone.
    reserved_at = state.reserved_at
    assert reserved_at is not None, "a reservation has a time"
    try:
        response, owners = await work()
    except BaseException:
        # the request failed: its retry must be able to do the work, not wait for an answer that never comes
        try:
            await store.release_idempotent(key, reserved_at=reserved_at)
        except ServiceUnavailable as exc:
            log.warning("Idempotency-Key reservation kept until its lease ends: %s", exc.message)
        raise
    await store.complete_idempotent(key, response.status, response.text or "", owners, reserved_at=reserved_at)
    return response
