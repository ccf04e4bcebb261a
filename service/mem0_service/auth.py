"""Who is calling: API keys resolved to a principal that handlers consult before touching a user's data."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from mem0_service.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    role: str  # "admin" sees everything; scoped keys are bound to one user and/or agent
    user_id: str | None = None
    agent_id: str | None = None
    can_write: bool = True

    def check_user(self, user_id: str) -> None:
        if self.user_id is not None and user_id != self.user_id:
            raise Forbidden(f"This API key is limited to user_id '{self.user_id}'", field="user_id")

    def check_write(self) -> None:
        if not self.can_write:
            raise Forbidden("This API key is read-only")


PRINCIPAL = "principal"


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # mem0's platform clients send "Token <key>"; the guide's clients send "Bearer <key>".
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


def match_admin_key(token: str, admin_keys: list[str]) -> bool:
    # Compare against every key without stopping early, so timing reveals neither key nor position.
    found = False
    for key in admin_keys:
        found |= hmac.compare_digest(token.encode(), key.encode())
    return found


def authenticate(request: web.Request, admin_keys: list[str]) -> Principal:
    token = bearer_token(request)
    if token is None or not match_admin_key(token, admin_keys):
        raise Unauthorized("Invalid API key", headers={"WWW-Authenticate": 'Bearer realm="mem0"'})
    return Principal(role="admin")


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]
