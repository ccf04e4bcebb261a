"""Memories as JSON lines: the format of exports, imports and the records inside a backup."""

from __future__ import annotations

import json
from typing import Any

from mem0_service.core.memory import Memory, MemoryType
from mem0_service.stores.base import iso, parse_iso


def memory_to_json(memory: Memory) -> dict[str, Any]:
    return {"id": memory.id, "user_id": memory.user_id, "content": memory.content, "type": memory.type.value,
            "session_id": memory.session_id, "agent_id": memory.agent_id, "metadata": memory.metadata,
            "created_at": iso(memory.created_at), "updated_at": iso(memory.updated_at),
            "expires_at": iso(memory.expires_at) if memory.expires_at else None}


def memory_line(memory: Memory) -> str:
    return json.dumps(memory_to_json(memory), ensure_ascii=False, separators=(",", ":")) + "\n"


class BadRecord(ValueError):
    pass


def memory_from_json(data: Any) -> Memory:
    """A memory from one exported line; raises BadRecord saying which field is wrong."""
    if not isinstance(data, dict):
        raise BadRecord("each line must be a JSON object")
    for name in ("id", "user_id", "content", "created_at"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise BadRecord(f"field '{name}' is missing or not a string")
    try:
        memory_type = MemoryType(data.get("type") or "fact")
    except ValueError:
        raise BadRecord(f"field 'type' has unknown value {data.get('type')!r}") from None
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRecord("field 'metadata' must be an object")
    try:
        created = parse_iso(data["created_at"])
        updated = parse_iso(data.get("updated_at") or data["created_at"])
        expires = parse_iso(data["expires_at"]) if data.get("expires_at") else None
    except ValueError as exc:
        raise BadRecord(f"bad timestamp: {exc}") from None
    if created.tzinfo is None or updated.tzinfo is None:
        raise BadRecord("timestamps must carry a time zone (e.g. ...Z)")
    return Memory(id=data["id"], user_id=data["user_id"], content=data["content"], type=memory_type,
                  created_at=created, updated_at=updated, session_id=data.get("session_id"),
                  agent_id=data.get("agent_id"), metadata=metadata, expires_at=expires)
