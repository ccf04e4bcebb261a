"""Memories, history events, scoped keys, logged messages and webhook subscriptions as JSON lines: exports, imports
and the members of a backup."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from mem0_service.core.memory import HistoryEvent, Memory, MemoryType
from mem0_service.core.messages import LoggedMessage
from mem0_service.keys.model import ApiKey
from mem0_service.ops.validation import InvalidValue, check_json, check_text, parse_timestamp
from mem0_service.ops.validation import utc_text as iso
from mem0_service.webhooks.events import EVENT_KINDS
from mem0_service.webhooks.store import Webhook
from mem0_service.webhooks.targets import TargetRefused, check_shape

DIGEST = re.compile(r"[0-9a-f]{64}")


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


def message_line(m: LoggedMessage) -> str:
    return _line({"user_id": m.user_id, "session_id": m.session_id, "seq": m.seq, "agent_id": m.agent_id,
                  "role": m.role, "content": m.content, "name": m.name, "metadata": m.metadata,
                  "created_at": iso(m.created_at), "stored_at": iso(m.stored_at)})


def webhook_line(hook: Webhook) -> str:
    """A subscription with its signing secret (receivers check signatures with it); its delivery state (failures in
    a row, next retry, lease) belongs to the delivery queue and stays out."""
    return _line({"id": hook.id, "url": hook.url, "secret": hook.secret, "user_id": hook.user_id,
                  "agent_id": hook.agent_id, "events": hook.events, "description": hook.description,
                  "created_by": hook.created_by, "created_at": iso(hook.created_at), "enabled": hook.enabled,
                  "disabled_reason": hook.disabled_reason})


class BadRecord(ValueError):
    """A line that is not a valid record; the message names the field."""


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRecord("each line must be a JSON object")
    return data


def _required(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise BadRecord(f"field '{name}' is missing or not a string")
    return check_text(value, name)


def _optional(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"field '{name}' must be a string or null")
    return check_text(value, name)


def _moment(data: dict[str, Any], name: str, *, required: bool = True) -> datetime | None:
    text = _required(data, name) if required else _optional(data, name)
    return parse_timestamp(text, name) if text else None


def _checked(parse):
    """Value rule violations surface as BadRecord, like every other problem with a line."""
    def run(data: Any):
        try:
            return parse(_object(data))
        except InvalidValue as exc:
            raise BadRecord(str(exc)) from None
    run.__doc__ = parse.__doc__
    return run


@_checked
def history_from_json(data: dict[str, Any]) -> tuple[str, HistoryEvent]:
    """A history event (with its memory's user) from one line of history.jsonl."""
    memory_id, user_id, event = _required(data, "memory_id"), _required(data, "user_id"), _required(data, "event")
    if event not in ("ADD", "UPDATE", "DELETE"):
        raise BadRecord(f"field 'event' has unknown value {event!r}")
    created = _moment(data, "created_at")
    assert created is not None
    return user_id, HistoryEvent(memory_id, event, _optional(data, "old_content"), _optional(data, "new_content"),
                                 _required(data, "actor"), created)


@_checked
def key_from_json(data: dict[str, Any]) -> tuple[ApiKey, str]:
    """A scoped key and the digest of its secret from one line of keys.jsonl."""
    key_id, digest, prefix, access = (_required(data, name) for name in ("id", "key_hash", "prefix", "access"))
    if not DIGEST.fullmatch(digest):
        raise BadRecord("field 'key_hash' is not a SHA-256 digest (64 hexadecimal digits)")
    if access not in ("read", "read_write"):
        raise BadRecord(f"field 'access' has unknown value {access!r}")
    user_id, agent_id = _optional(data, "user_id"), _optional(data, "agent_id")
    if user_id is None and agent_id is None:
        raise BadRecord("a key needs a user_id, an agent_id or both")
    created = _moment(data, "created_at")
    assert created is not None
    return ApiKey(id=key_id, prefix=prefix, name=_optional(data, "name"), user_id=user_id, agent_id=agent_id,
                  access=access, created_at=created,  # type: ignore[arg-type]  # checked just above
                  revoked_at=_moment(data, "revoked_at", required=False)), digest


@_checked
def memory_from_json(data: dict[str, Any]) -> Memory:
    """A memory from one exported line; raises BadRecord saying which field is wrong."""
    memory_id, user_id, content = _required(data, "id"), _required(data, "user_id"), _required(data, "content")
    try:
        memory_type = MemoryType(data.get("type") or "fact")
    except ValueError:
        raise BadRecord(f"field 'type' has unknown value {data.get('type')!r}") from None
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRecord("field 'metadata' must be an object")
    check_json(metadata, "metadata")
    created = _moment(data, "created_at")
    assert created is not None
    updated = _moment(data, "updated_at", required=False) or created
    return Memory(id=memory_id, user_id=user_id, content=content, type=memory_type, created_at=created,
                  updated_at=updated, session_id=_optional(data, "session_id"), agent_id=_optional(data, "agent_id"),
                  metadata=metadata, expires_at=_moment(data, "expires_at", required=False))


@_checked
def message_from_json(data: dict[str, Any]) -> LoggedMessage:
    """A logged message of a session from one line of messages.jsonl."""
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**63:
        raise BadRecord("field 'seq' must be a whole number from 1")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRecord("field 'metadata' must be an object")
    check_json(metadata, "metadata")
    created = _moment(data, "created_at")
    stored = _moment(data, "stored_at")
    assert created is not None and stored is not None
    return LoggedMessage(user_id=_required(data, "user_id"), session_id=_required(data, "session_id"), seq=seq,
                         agent_id=_optional(data, "agent_id"), role=_required(data, "role"),
                         content=_required(data, "content"), name=_optional(data, "name"), metadata=metadata,
                         created_at=created, stored_at=stored)


@_checked
def webhook_from_json(data: dict[str, Any]) -> Webhook:
    """A webhook subscription from one line of webhooks.jsonl; it starts with no failures and no retry pending."""
    hook_id, url, secret = _required(data, "id"), _required(data, "url"), _required(data, "secret")
    if len(url) > 2000:
        raise BadRecord("field 'url' is longer than 2000 characters")
    try:
        check_shape(url)
    except TargetRefused as exc:
        raise BadRecord(f"field 'url' cannot receive webhooks: {exc}") from None
    events = data.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise BadRecord("field 'events' must be a non-empty list of event names")
    unknown = [e for e in events if e not in EVENT_KINDS]
    if unknown:
        raise BadRecord(f"field 'events' has unknown value {unknown[0]!r}")
    if len(set(events)) != len(events):
        raise BadRecord("field 'events' names an event twice")
    enabled = data.get("enabled")
    if not isinstance(enabled, bool):
        raise BadRecord("field 'enabled' must be true or false")
    created = _moment(data, "created_at")
    assert created is not None
    return Webhook(id=hook_id, url=url, user_id=_optional(data, "user_id"), agent_id=_optional(data, "agent_id"),
                   events=events, description=_optional(data, "description"), created_by=_required(data, "created_by"),
                   created_at=created, enabled=enabled, disabled_reason=_optional(data, "disabled_reason"),
                   consecutive_failures=0, next_attempt_at=None, secret=secret)
