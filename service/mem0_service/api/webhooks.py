"""Handlers for /api/webhooks: register a URL to be told about memory changes, list, remove, read its delivery log.

An admin key may watch every user; a key bound to a user (and/or agent) only what it could read itself."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field, field_serializer, field_validator

from mem0_service.api.models import Identifier, Request
from mem0_service.api.parsing import parse_body, parse_path_identifier, parse_query
from mem0_service.api.responses import json_response
from mem0_service.auth import Principal, principal
from mem0_service.errors import BadRequest, Forbidden, NotFound
from mem0_service.ops.logs import AUDIT
from mem0_service.state import SETTINGS
from mem0_service.stores.base import iso
from mem0_service.webhooks.events import EVENT_KINDS, EventKind
from mem0_service.webhooks.setup import WEBHOOK_STORE
from mem0_service.webhooks.signing import new_secret
from mem0_service.webhooks.store import Delivery, Webhook, WebhookStore
from mem0_service.webhooks.targets import TargetRefused, check_target


class WebhookCreate(Request):
    url: str = Field(max_length=2000, description="Where deliveries are POSTed (http or https)")
    events: list[EventKind] = Field(default_factory=lambda: list(EVENT_KINDS), min_length=1,
                                    description="The events to deliver (default: all)")
    user_id: Identifier | None = Field(None, description="Only this user's events (a user-bound key: its own user)")
    agent_id: Identifier | None = Field(None, description="Only this agent's events")
    description: str | None = Field(None, max_length=500)
    secret: str | None = Field(None, min_length=16, max_length=200,
                               description="The signing secret; generated when omitted (shown once either way)")

    @field_validator("events")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    user_id: str | None
    agent_id: str | None
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why deliveries stopped (repeated failures)")
    consecutive_failures: int
    next_attempt_at: datetime | None = Field(description="When a failed delivery is retried")
    created_at: datetime

    @field_serializer("created_at", "next_attempt_at")
    def _utc(self, value: datetime | None) -> str | None:
        return iso(value) if value else None

    @classmethod
    def of(cls, hook: Webhook) -> WebhookOut:
        return cls(id=hook.id, url=hook.url, events=hook.events, user_id=hook.user_id, agent_id=hook.agent_id,
                   description=hook.description, enabled=hook.enabled, disabled_reason=hook.disabled_reason,
                   consecutive_failures=hook.consecutive_failures, next_attempt_at=hook.next_attempt_at,
                   created_at=hook.created_at)


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery (X-Mem0-Signature); shown this once")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]
    total: int


class WebhookDeleted(BaseModel):
    success: bool
    message: str


class DeliveryQuery(Request):
    status: Literal["pending", "delivered", "failed"] | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class DeliveryOut(BaseModel):
    id: str
    event: str
    memory_id: str | None
    status: str = Field(description="pending (queued or being retried), delivered, or failed (webhook disabled)")
    attempts: int
    response_status: int | None = Field(description="The receiver's HTTP status at the last attempt")
    last_error: str | None
    occurred_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None

    @field_serializer("occurred_at", "last_attempt_at", "delivered_at")
    def _utc(self, value: datetime | None) -> str | None:
        return iso(value) if value else None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(id=d.id, event=d.event, memory_id=d.memory_id, status=d.status, attempts=d.attempts,
                   response_status=d.response_status, last_error=d.last_error, occurred_at=d.occurred_at,
                   last_attempt_at=d.last_attempt_at, delivered_at=d.delivered_at)


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut] = Field(description="Newest first")
    total: int


def _store(request: web.Request) -> WebhookStore:
    return request.app[WEBHOOK_STORE]


def _owner(body: WebhookCreate, who: Principal) -> tuple[str | None, str | None]:
    """The user and agent the webhook watches: never more than the key itself reads."""
    access = who.access
    if access.user_id is not None and body.user_id not in (None, access.user_id):
        raise Forbidden(f"This API key is limited to user_id '{access.user_id}'", field="user_id")
    if access.agent_id is not None and body.agent_id not in (None, access.agent_id):
        raise Forbidden(f"This API key is limited to agent_id '{access.agent_id}'", field="agent_id")
    return body.user_id or access.user_id, body.agent_id or access.agent_id


async def _visible(request: web.Request) -> Webhook:
    webhook_id = parse_path_identifier(request, "webhook_id")
    hook = await _store(request).get(webhook_id)
    # another tenant's webhook is reported as missing: ids must not leak across tenants
    if hook is None or not hook.within(principal(request).access):
        raise NotFound(f"Webhook {webhook_id} not found")
    return hook


async def create_webhook(request: web.Request) -> web.Response:
    who = principal(request)
    body = await parse_body(request, WebhookCreate)
    user_id, agent_id = _owner(body, who)
    try:
        await check_target(body.url, allow_private=request.app[SETTINGS].webhook_allow_private)
    except TargetRefused as exc:
        raise BadRequest(f"Webhook url refused: {exc}", field="url") from None
    secret = body.secret or new_secret()
    hook = await _store(request).create(url=body.url, secret=secret, user_id=user_id, agent_id=agent_id,
                                        events=list(body.events), description=body.description,
                                        created_by=who.key_id)
    request[AUDIT] = {"webhook": hook.id, "user_id": user_id, "agent_id": agent_id}
    return json_response(WebhookCreated(**WebhookOut.of(hook).model_dump(), secret=secret), status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    hooks = await _store(request).list(principal(request).access)
    return json_response(WebhookList(webhooks=[WebhookOut.of(h) for h in hooks], total=len(hooks)))


async def get_webhook(request: web.Request) -> web.Response:
    return json_response(WebhookOut.of(await _visible(request)))


async def delete_webhook(request: web.Request) -> web.Response:
    hook = await _visible(request)
    await _store(request).delete(hook.id)
    request[AUDIT] = {"webhook": hook.id}
    return json_response(WebhookDeleted(success=True, message=f"Webhook {hook.id} deleted"))


async def list_deliveries(request: web.Request) -> web.Response:
    hook = await _visible(request)
    query = parse_query(request, DeliveryQuery)
    found, total = await _store(request).deliveries(hook.id, limit=query.limit, offset=query.offset,
                                                    status=query.status)
    return json_response(DeliveryList(deliveries=[DeliveryOut.of(d) for d in found], total=total))
