"""Memories, history events and scoped keys as JSON lines: exports, imports and the members of a backup."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mem0_service.core.memory import HistoryEvent, Memory, MemoryType
from mem0_service.keys.model import ApiKey
from mem0_service.stores.base import iso, parse_iso


def memory_to_json(memory: Memory) -> dict[str, Any]:
    return {"id": memory.id, "user_id": memory.user_id, "content": memory.content, "type": memory.type.value,
            "session_id": memory.session_id, "agent_id": memory.agent_id, "metadata": memory.metadata,
            "created_at": iso(memory.created_at), "updated_at": iso(memory.updated_at),
            "expires_at": iso(memory.expires_at) if memory.expires_at else None}


def memory_line(memory: Memory) -> str:
    return _line(memory_to_json(memory))


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def history_line(user_id: str, event: HistoryEvent) -> str:
    return _line({"memory_id": event.memory_id, "user_id": user_id, "event": event.event,
                  "old_content": event.old_content, "new_content": event.new_content, "actor": event.actor,
                  "created_at": iso(event.created_at)})


def key_line(key: ApiKey, digest: str) -> str:
    return _line({"id": key.id, "key_hash": digest, "prefix": key.prefix, "name": key.name, "user_id": key.user_id,
                  "agent_id": key.agent_id, "access": key.access, "created_at": iso(key.created_at),
                  "revoked_at": iso(key.revoked_at) if key.revoked_at else None})


class BadRecord(ValueError):
    pass


def _strings(data: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRecord("each line must be a JSON object")
    for name in required:
        if not isinstance(data.get(name), str) or not data[name]:
            raise BadRecord(f"field '{name}' is missing or not a string")
    for name in optional:
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRecord(f"field '{name}' must be a string or null")
    return data


def _moment(text: str, name: str) -> datetime:
    try:
        moment = parse_iso(text)
    except ValueError:
        raise BadRecord(f"field '{name}' is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise BadRecord(f"field '{name}' must carry a time zone (e.g. ...Z)")
    return moment


def history_from_json(data: Any) -> tuple[str, HistoryEvent]:
    data = _strings(data, ("memory_id", "user_id", "event", "actor", "created_at"), ("old_content", "new_content"))
    if data["event"] not in ("ADD", "UPDATE", "DELETE"):
        raise BadRecord(f"field 'event' has unknown value {data['event']!r}")
    return data["user_id"], HistoryEvent(data["memory_id"], data["event"], data.get("old_content"),
                                         data.get("new_content"), data["actor"], _moment(data["created_at"], "created_at"))


def key_from_json(data: Any) -> tuple[ApiKey, str]:
    data = _strings(data, ("id", "key_hash", "prefix", "access", "created_at"), ("name", "user_id", "agent_id",
                                                                                "revoked_at"))
    if data["access"] not in ("read", "read_write"):
        raise BadRecord(f"field 'access' has unknown value {data['access']!r}")
    if data.get("user_id") is None and data.get("agent_id") is None:
        raise BadRecord("a key needs a user_id, an agent_id or both")
    revoked = data.get("revoked_at")
    return ApiKey(id=data["id"], prefix=data["prefix"], name=data.get("name"), user_id=data.get("user_id"),
                  agent_id=data.get("agent_id"), access=data["access"],
                  created_at=_moment(data["created_at"], "created_at"),
                  revoked_at=_moment(revoked, "revoked_at") if revoked else None), data["key_hash"]


def memory_from_json(data: Any) -> Memory:
    """A memory from one exported line; raises BadRecord saying which field is wrong."""
    data = _strings(data, ("id", "user_id", "content", "created_at"))
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
