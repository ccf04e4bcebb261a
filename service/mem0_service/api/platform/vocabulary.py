"""The two vocabularies: how mem0's platform fields map onto this service's memories, and back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, overload

from aiohttp import web

from mem0_service.api.models import MAX_CONTENT_CHARS
from mem0_service.api.parsing import check_identifier
from mem0_service.api.platform_models import MemoryEvent, PlatformMemory
from mem0_service.api.values import check_timestamp
from mem0_service.core.memory import Memory, utcnow
from mem0_service.core.service import MemoryService
from mem0_service.errors import ApiError, BadRequest
from mem0_service.state import SERVICE
from mem0_service.stores.base import iso

_UTC = timezone.utc

# Keys of this service's metadata that carry platform fields of their own.
CATEGORIES, APP_ID, ROLE = "categories", "app_id", "role"
LIFTED = (CATEGORIES, APP_ID)
OWNER_PREFIXES = (("agent_id", "agent:"), ("run_id", "run:"), ("app_id", "app:"))
ENTITY_FIELDS = ("user_id", "agent_id", "run_id", "app_id")
DEFAULT_TOP_K = 10
DEFAULT_PAGE_SIZE = 100
ORG_ID, PROJECT_ID = "self-hosted", "default"
ACTOR = "mem0-platform"  # how changes made through these routes are named in a memory's history
# Metadata updates merge into what is stored; a merge that lost a race is redone from a fresh read. Every round
# of a race has a winner, so this bounds how many concurrent merges of one memory all succeed.
MERGE_ATTEMPTS = 50


class NotSupported(ApiError):
    status, title = 501, "Not Implemented"


def _service(request: web.Request) -> MemoryService:
    return request.app[SERVICE]


# -- mapping between the two vocabularies -----------------------------------------------------------------


@dataclass(frozen=True)
class Entities:
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    app_id: str | None = None

    def any(self) -> bool:
        return any((self.user_id, self.agent_id, self.run_id, self.app_id))

    def owner(self) -> str:
        """The user who owns the memory here: the user_id, or the documented stand-in for agent/run/app-only."""
        if self.user_id:
            return self.user_id
        for field, prefix in OWNER_PREFIXES:
            if getattr(self, field):
                return prefix + getattr(self, field)
        raise BadRequest("One of user_id, agent_id, run_id or app_id is required", field="user_id")


def _app_id(memory: Memory) -> str | None:
    value = memory.metadata.get(APP_ID)
    return value if isinstance(value, str) else None


def _platform_user(memory: Memory) -> str | None:
    values = {"agent_id": memory.agent_id, "run_id": memory.session_id, "app_id": _app_id(memory)}
    for field, prefix in OWNER_PREFIXES:
        value = values[field]
        if value and memory.user_id == prefix + value:
            return None
    return memory.user_id


def _categories(memory: Memory) -> list[str]:
    value = memory.metadata.get(CATEGORIES)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _fields(memory: Memory) -> dict[str, Any]:
    expiry = iso(memory.expires_at - timedelta(microseconds=1))[:10] if memory.expires_at else None
    return {"id": memory.id, "memory": memory.content, "user_id": _platform_user(memory),
            "agent_id": memory.agent_id, "app_id": _app_id(memory), "run_id": memory.session_id, "hash": memory.hash,
            "metadata": {k: v for k, v in memory.metadata.items() if k not in LIFTED} or None,
            "categories": _categories(memory), "memory_type": memory.type.value, "expiration_date": expiry,
            "created_at": iso(memory.created_at), "updated_at": iso(memory.updated_at)}


def to_platform(memory: Memory) -> PlatformMemory:
    return PlatformMemory(**_fields(memory))


def _event(memory: Memory, event: Literal["ADD", "UPDATE", "DELETE", "NONE"], previous: str | None = None) -> MemoryEvent:
    fields = _fields(memory)
    if event == "DELETE" and previous is not None:
        fields["memory"] = previous
    return MemoryEvent(**fields, event="NOOP" if event == "NONE" else event,
                       previous_memory=previous if event == "UPDATE" else None)


@overload
def _text(value: str, field: str) -> str: ...
@overload
def _text(value: None, field: str) -> None: ...
@overload
def _text(value: str | None, field: str) -> str | None: ...
def _text(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise BadRequest(f"Invalid value for field '{field}': must not be empty", field=field)
    if len(value) > MAX_CONTENT_CHARS:
        raise BadRequest(f"Invalid value for field '{field}': at most {MAX_CONTENT_CHARS} characters", field=field)
    return value


def _expiry(value: str | None) -> datetime | None:
    """mem0's expiration_date is a day: the memory is kept through that day (UTC)."""
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value.strip()[:10]).replace(tzinfo=_UTC)
    except ValueError:
        raise BadRequest("Invalid value for field 'expiration_date': use YYYY-MM-DD", field="expiration_date") from None
    end = check_timestamp(day, "expiration_date") + timedelta(days=1)
    end = check_timestamp(end, "expiration_date")
    if end <= utcnow():
        raise BadRequest("Invalid value for field 'expiration_date': must not be in the past", field="expiration_date")
    return end


def _reject_unsupported(*, enable_graph: Any = None, timestamp: Any = None, immutable: Any = None) -> None:
    if enable_graph in (True, "true", "True"):
        raise NotSupported("Graph memory (enable_graph=true) is not supported by this service; "
                           "send enable_graph=false or leave it out", field="enable_graph")
    if timestamp is not None:
        raise NotSupported("timestamp is not supported by this service: memories carry their creation time",
                           field="timestamp")
    if immutable:
        raise NotSupported("immutable memories are not supported by this service", field="immutable")


def _entities_from(ids: Any, filters: dict[str, Any] | None) -> Entities:
    """Top-level entity ids, completed by plain ones given in filters (add, delete_all)."""
    values = {f: getattr(ids, f, None) for f in ENTITY_FIELDS}
    for field in ENTITY_FIELDS:
        given = (filters or {}).get(field)
        if values[field] is None and isinstance(given, str) and given != "*":
            values[field] = check_identifier(given, f"filters.{field}")  # it may become a stored id
    return Entities(**values)

