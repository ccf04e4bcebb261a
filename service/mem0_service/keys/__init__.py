"""Scoped API keys: each bound to a user and/or agent, read-only or read-write, stored hashed.

The keys live in the record store's database (see `keys.store.KeyStore`)."""

from mem0_service.keys.model import ApiKey, hash_key, new_key

__all__ = ["ApiKey", "hash_key", "new_key"]
