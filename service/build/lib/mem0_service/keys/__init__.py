"""Scoped API keys: each bound to a user and/or agent, read-only or read-write, stored hashed."""

from mem0_service.keys.model import ApiKey, hash_key, new_key
from mem0_service.keys.store import KeyStore, open_key_store

__all__ = ["ApiKey", "KeyStore", "hash_key", "new_key", "open_key_store"]
