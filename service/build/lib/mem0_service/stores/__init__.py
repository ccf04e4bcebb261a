"""Record stores: the source of truth for memories (SQLite embedded, PostgreSQL in production)."""

from mem0_service.stores.base import IndexOp, RecordStore

__all__ = ["IndexOp", "RecordStore"]
