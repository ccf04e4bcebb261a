"""Who is calling: API keys resolved to a principal whose access the route policy and the core apply."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from aiohttp import web

from mem0_service.core.access import Access
from mem0_service.core.memory import Scope
from mem0_service.errors import Forbidden, Unauthorized
from mem0_service.keys.model import PREFIX as SCOPED_PREFIX
from mem0_service.keys.store import KeyStore


@dataclass(frozen=True)
class Principal:
    role: str  # "admin" sees everything; "scoped" keys are bound to one user and/or agent
    user_id: str | None = None
    agent_id: str | None = None
    can_write: bool = True
    key_id: str = ""  # who to name in logs, metrics and rate limits (never the secret)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def access(self) -> Access:
        """The memories this key reaches, in the core's terms."""
        return Access(user_id=self.user_id, agent_id=self.agent_id)

    def restrict(self, scope: Scope, **how: bool) -> Scope:
        return self.access.restrict(scope, **how)

    def check_write(self) -> None:
        if not self.can_write:
            raise Forbidden("This API key is read-only")

    def check_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("This operation needs an admin API key (MEM0_API_KEY / MEM0_API_KEYS)")


PRINCIPAL = "principal"


def _invalid() -> Unauthorized:
    return Unauthorized("Invalid API key", headers={"WWW-Authenticate": 'Bearer realm="mem0"'})


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # mem0's platform clients send "Token <key>"; the guide's clients send "Bearer <key>".
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


def match_admin_key(token: str, admin_keys: list[str]) -> int | None:
    """Position of the matching admin key. Every key is compared, so timing reveals neither key nor position."""
    found: int | None = None
    for position, key in enumerate(admin_keys):
        if hmac.compare_digest(token.encode(), key.encode()):
            found = position
    return found


def admin_key_id(key: str) -> str:
    # A short digest names the admin key in logs and metrics; rotating keys stay distinguishable.
    return "admin:" + hashlib.sha256(key.encode()).hexdigest()[:8]


class Authenticator:
    """Admin keys from the settings (several at once, for rotation without restart of clients) and scoped keys
    from the key store, with a short cache so a busy flow does not cost a database round trip per request."""

    def __init__(self, admin_keys: list[str], key_store: KeyStore | None, cache_seconds: float = 5.0):
        self.admin_keys = list(admin_keys)
        self.key_store = key_store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate(self, request: web.Request) -> Principal:
        token = bearer_token(request)
        if token is None:
            raise _invalid()
        position = match_admin_key(token, self.admin_keys)
        if position is not None:
            return Principal(role="admin", key_id=admin_key_id(self.admin_keys[position]))
        if self.key_store is None or not token.startswith(SCOPED_PREFIX):
            raise _invalid()
        cached = self._cache.get(token)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        key = await self.key_store.find(token)
        if key is None:
            self._cache.pop(token, None)
            raise _invalid()
        found = Principal(role="scoped", user_id=key.user_id, agent_id=key.agent_id, can_write=key.can_write,
                          key_id=key.id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (time.monotonic() + self.cache_seconds, found)
        return found

    def forget(self, key_id: str) -> None:
        """Drop a revoked key from the cache so it stops working here at once."""
        self._cache = {t: entry for t, entry in self._cache.items() if entry[1].key_id != key_id}


def authenticate(request: web.Request, admin_keys: list[str]) -> Principal:
    """Admin keys only (kept for callers that have no key store)."""
    token = bearer_token(request)
    position = None if token is None else match_admin_key(token, admin_keys)
    if position is None:
        raise _invalid()
    return Principal(role="admin", key_id=admin_key_id(admin_keys[position]))


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]
