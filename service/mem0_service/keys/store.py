"""Scoped keys: created, found, listed and revoked in the record store's own database, through its connections."""

from __future__ import annotations

from mem0_service.core.memory import utcnow
from mem0_service.core.ports import RecordStore
from mem0_service.keys.model import Access, ApiKey, hash_key, new_key, new_key_id


class KeyStore:
    """The key operations of the service and the CLI. The table belongs to the record store (its migrations
    create it, its connections reach it), so a key made by either is seen by the other at once."""

    def __init__(self, store: RecordStore):
        self.store = store

    async def create(self, *, user_id: str | None, agent_id: str | None, access: Access,
                     name: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret. The secret is not stored anywhere: show it once."""
        if user_id is None and agent_id is None:
            raise ValueError("a scoped key must be bound to a user_id, an agent_id or both")
        token = new_key()
        key = ApiKey(id=new_key_id(), prefix=token[:10], name=name, user_id=user_id, agent_id=agent_id,
                     access=access, created_at=utcnow())
        await self.store.insert_key(key, hash_key(token))
        return key, token

    async def restore(self, key: ApiKey, digest: str) -> bool:
        """Bring back a key from a backup (revoked ones stay revoked) unless this store already has it."""
        return await self.store.insert_key(key, digest, if_absent=True)

    async def find(self, token: str) -> ApiKey | None:
        """The active key whose secret is `token`, or None."""
        return await self.store.find_key(hash_key(token))

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        return await self.store.list_keys(include_revoked=include_revoked)

    async def revoke(self, key_id: str) -> ApiKey | None:
        """Mark the key revoked; None if no such key exists."""
        return await self.store.revoke_key(key_id, utcnow())
