"""Handlers for /api/keys: admins create, list and revoke keys scoped to a user and/or agent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field, field_serializer, model_validator

from mem0_service.api.models import Identifier
from mem0_service.api.parsing import parse_body, parse_query
from mem0_service.api.responses import json_response
from mem0_service.errors import BadRequest, NotFound
from mem0_service.keys.model import ApiKey
from mem0_service.ops.logs import AUDIT
from mem0_service.ops.state import AUTHENTICATOR, KEY_STORE
from mem0_service.stores.base import iso


class KeyCreate(BaseModel):
    user_id: Identifier | None = Field(None, description="The only user whose memories the key may touch")
    agent_id: Identifier | None = Field(None, description="The only agent whose memories the key may touch")
    access: Literal["read", "read_write"] = Field("read_write", description="read: search, list and get only")
    name: str | None = Field(None, max_length=200, description="A label for people: which flow uses the key")

    @model_validator(mode="after")
    def _bound(self) -> KeyCreate:
        if self.user_id is None and self.agent_id is None:
            raise ValueError("a scoped key needs a user_id, an agent_id or both")
        return self


class KeyOut(BaseModel):
    id: str
    prefix: str = Field(description="The first characters of the key, to recognise it")
    name: str | None
    user_id: str | None
    agent_id: str | None
    access: str
    created_at: datetime
    revoked_at: datetime | None = None

    @field_serializer("created_at", "revoked_at")
    def _utc(self, value: datetime | None) -> str | None:
        return iso(value) if value else None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(id=key.id, prefix=key.prefix, name=key.name, user_id=key.user_id, agent_id=key.agent_id,
                   access=key.access, created_at=key.created_at, revoked_at=key.revoked_at)


class KeyCreated(KeyOut):
    key: str = Field(description="The secret: shown this once, only its hash is stored")


class KeyList(BaseModel):
    keys: list[KeyOut]
    total: int


class KeyListQuery(BaseModel):
    include_revoked: bool = False


class KeyRevoked(BaseModel):
    success: bool
    message: str
    key: KeyOut


async def create_key(request: web.Request) -> web.Response:
    try:
        body = await parse_body(request, KeyCreate)
    except BadRequest as exc:
        raise BadRequest(exc.message.replace("Invalid value for field '': ", ""), field=exc.field) from None
    key, secret = await request.app[KEY_STORE].create(user_id=body.user_id, agent_id=body.agent_id,
                                                      access=body.access, name=body.name)
    request[AUDIT] = {"key": key.id, "user_id": key.user_id, "agent_id": key.agent_id, "access": key.access}
    return json_response(KeyCreated(**KeyOut.of(key).model_dump(), key=secret), status=201)


async def list_keys(request: web.Request) -> web.Response:
    query = parse_query(request, KeyListQuery)
    keys = await request.app[KEY_STORE].list(include_revoked=query.include_revoked)
    return json_response(KeyList(keys=[KeyOut.of(k) for k in keys], total=len(keys)))


async def revoke_key(request: web.Request) -> web.Response:
    key_id = request.match_info["key_id"]
    key = await request.app[KEY_STORE].revoke(key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    request.app[AUTHENTICATOR].forget(key.id)
    request[AUDIT] = {"key": key.id}
    return json_response(KeyRevoked(success=True, message=f"API key {key.id} revoked", key=KeyOut.of(key)))
