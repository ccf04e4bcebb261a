"""mem0's hosted platform API (/v1, /v2, /v3), served from the same store, memories and keys as /api.

mem0's own clients (the `mem0ai` Python and JavaScript SDKs, Flowise's Mem0 node) only need their `host` pointed
here. How the platform's concepts land in this service:

- user_id / agent_id / run_id -> user_id / agent_id / session_id; app_id is kept in metadata.app_id.
- A memory always has an owning user here. When a client names no user_id, the owner is derived, in this order:
  "agent:<agent_id>", "run:<run_id>", "app:<app_id>". Reads and filters that name no user_id use the same rule,
  and platform responses report user_id null for such owners: the mapping is symmetric.
- memory <-> content; categories <-> metadata.categories; the rest of metadata is kept as given.
- infer=false stores every user/assistant message as its own memory of type "interaction" (role in
  metadata.role); system messages are not stored. infer=true runs the service's LLM extraction (facts
  reconciled with what is known: ADD/UPDATE/DELETE/NOOP events), and answers 400 naming what to configure
  when no chat model is set.
- expiration_date (YYYY-MM-DD) -> expires_at: the memory is gone after that day (UTC).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from mem0_service.api.events import load_event, submit
from mem0_service.api.models import MAX_CONTENT_CHARS
from mem0_service.api.parsing import check_identifier, parse_body, parse_query, query_value
from mem0_service.api.platform_models import (
    AddRequest,
    AddResponse,
    AsyncAddResponse,
    BatchDeleteRequest,
    BatchUpdateRequest,
    DeleteAllResponse,
    EntitiesResponse,
    Entity,
    EntityQuery,
    EventData,
    EventResponse,
    HistoryEntry,
    LegacyAddEvent,
    ListQuery,
    ListRequest,
    ListResults,
    MemoryEvent,
    MessageResponse,
    Page,
    PageQuery,
    PingResponse,
    PlatformHistoryResponse,
    PlatformListResponse,
    PlatformMemory,
    PlatformSearchResponse,
    Results,
    ScoredMemory,
    SearchRequest,
    SearchResults,
    UpdateRequest,
)
from mem0_service.api.responses import json_response
from mem0_service.api.values import MalformedJson, check_timestamp, check_value, is_scalar, strict_json
from mem0_service.auth import principal
from mem0_service.core.extraction import Message
from mem0_service.core.jobs import completed_job, events_of, extraction_job
from mem0_service.core.memory import Memory, MemoryType, Scope, utcnow
from mem0_service.core.service import ConversationEvent, MemoryService, NewMemory
from mem0_service.errors import ApiError, BadRequest, NotFound, PreconditionFailed
from mem0_service.state import SERVICE
from mem0_service.stores.base import iso
from mem0_service.stores.jobs import Job

log = logging.getLogger("mem0_service.platform")
_UTC = timezone.utc

# Keys of this service's metadata that carry platform fields of their own.
CATEGORIES, APP_ID, ROLE = "categories", "app_id", "role"
LIFTED = (CATEGORIES, APP_ID)
OWNER_PREFIXES = (("agent_id", "agent:"), ("run_id", "run:"), ("app_id", "app:"))
ENTITY_FIELDS = ("user_id", "agent_id", "run_id", "app_id")
MAX_SCOPES = 50
MAX_SCAN = 10_000
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
        if values[field] and memory.user_id == prefix + values[field]:
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


def _event(memory: Memory, event: str, previous: str | None = None) -> MemoryEvent:
    event = {"NONE": "NOOP"}.get(event, event)
    fields = _fields(memory)
    if event == "DELETE" and previous is not None:
        fields["memory"] = previous
    return MemoryEvent(**fields, event=event, previous_memory=previous if event == "UPDATE" else None)


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


# -- filters ------------------------------------------------------------------------------------------------

_VIEW_FIELDS = {"user_id", "agent_id", "run_id", "app_id", "created_at", "updated_at", "categories", "metadata",
                "memory", "keywords", "memory_type", "type"}
_OPERATORS = {"eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains", "icontains"}


def _view(memory: Memory) -> dict[str, Any]:
    return {"user_id": _platform_user(memory), "agent_id": memory.agent_id, "run_id": memory.session_id,
            "app_id": _app_id(memory), "created_at": memory.created_at, "updated_at": memory.updated_at,
            "categories": _categories(memory), "memory": memory.content, "keywords": memory.content,
            "metadata": memory.metadata, "memory_type": memory.type.value, "type": memory.type.value}


def _moment(value: Any, field: str, *, end_of_day: bool = False) -> datetime:
    try:
        text = str(value).strip()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=_UTC)
        elif len(text) == 10:  # a bare date
            day = datetime.fromisoformat(text).replace(tzinfo=_UTC)
            moment = day + timedelta(days=1) if end_of_day else day
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=_UTC)
    except (ValueError, OverflowError, OSError):
        raise BadRequest(f"Invalid date in filters.{field}: {str(value)[:64]!r} (use YYYY-MM-DD, ISO 8601 or a Unix "
                         "time)", field=f"filters.{field}") from None
    return check_timestamp(moment, f"filters.{field}")


Predicate = Callable[[dict[str, Any]], bool]


def _condition(field: str, spec: Any) -> Predicate:
    if field not in _VIEW_FIELDS:
        raise BadRequest(f"Unsupported filter field '{field}'; supported: AND, OR, NOT, "
                         f"{', '.join(sorted(_VIEW_FIELDS - {'keywords', 'type'}))}", field=f"filters.{field}")
    if field == "metadata":
        if not isinstance(spec, dict):
            raise BadRequest("filters.metadata must be an object of key: value pairs", field="filters.metadata")
        return lambda v: all(v["metadata"].get(k) == want for k, want in spec.items())
    if field == "categories":
        if isinstance(spec, dict):
            checks = []
            for op, want in spec.items():
                wanted = {str(w) for w in (want if isinstance(want, list) else [want])}
                if op in ("in", "contains", "eq"):
                    checks.append(lambda v, w=wanted: bool(w & set(v["categories"])))
                elif op in ("ne", "nin"):
                    checks.append(lambda v, w=wanted: not (w & set(v["categories"])))
                else:
                    raise BadRequest(f"Unsupported operator '{op}' for filters.categories (use in, contains, ne)",
                                     field="filters.categories")
            return lambda v: all(c(v) for c in checks)
        wanted = {str(w) for w in (spec if isinstance(spec, list) else [spec])}
        return lambda v: bool(wanted & set(v["categories"]))
    is_time = field in ("created_at", "updated_at")
    if not isinstance(spec, dict):
        if spec == "*":
            return lambda v: v[field] is not None
        if is_time:
            day = _moment(spec, field)
            return lambda v: day <= v[field] < _moment(spec, field, end_of_day=True) if len(str(spec)) == 10 \
                else v[field] == day
        return lambda v: v[field] == spec
    checks: list[Predicate] = []
    for op, want in spec.items():
        if op not in _OPERATORS:
            raise BadRequest(f"Unsupported operator '{op}' in filters.{field}; supported: "
                             f"{', '.join(sorted(_OPERATORS))}", field=f"filters.{field}")
        if op in ("in", "nin"):
            if not isinstance(want, list) or not all(is_scalar(w) for w in want):
                raise BadRequest(f"filters.{field}.{op} must be a list of plain values (text, numbers, true/false, "
                                 "null)", field=f"filters.{field}")
            values = set(want)
            checks.append((lambda v, s=values: v[field] in s) if op == "in" else (lambda v, s=values: v[field] not in s))
        elif op in ("eq", "ne"):
            if want == "*":
                checks.append((lambda v: v[field] is not None) if op == "eq" else (lambda v: v[field] is None))
            else:
                target = _moment(want, field) if is_time else want
                checks.append((lambda v, t=target: v[field] == t) if op == "eq" else (lambda v, t=target: v[field] != t))
        elif op in ("contains", "icontains"):
            needle = str(want).casefold() if op == "icontains" else str(want)
            fold = op == "icontains"
            checks.append(lambda v, n=needle, f=fold: v[field] is not None and n in (str(v[field]).casefold() if f
                                                                                    else str(v[field])))
        else:
            if not is_time:
                raise BadRequest(f"Operator '{op}' applies to created_at and updated_at only", field=f"filters.{field}")
            bound = _moment(want, field, end_of_day=op in ("lte", "gt"))
            compare = {"gt": lambda a, b: a >= b, "gte": lambda a, b: a >= b,
                       "lt": lambda a, b: a < b, "lte": lambda a, b: a < b}[op]
            if len(str(want).strip()) != 10:  # a full timestamp: the comparison is exact
                compare = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
                           "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}[op]
            checks.append(lambda v, b=bound, c=compare: c(v[field], b))
    return lambda v: all(c(v) for c in checks)


def compile_filter(node: Any, path: str = "filters") -> Predicate:
    if not isinstance(node, dict):
        raise BadRequest(f"{path} must be a JSON object", field=path)
    parts: list[Predicate] = []
    for key, spec in node.items():
        if key in ("AND", "OR", "NOT"):
            if not isinstance(spec, list) or not all(isinstance(s, dict) for s in spec):
                raise BadRequest(f"{path}.{key} must be a list of filter objects", field=f"{path}.{key}")
            subs = [compile_filter(s, f"{path}.{key}") for s in spec]
            if key == "AND":
                parts.append(lambda v, s=subs: all(p(v) for p in s))
            elif key == "OR":
                parts.append(lambda v, s=subs: any(p(v) for p in s))
            else:
                parts.append(lambda v, s=subs: not any(p(v) for p in s))
        else:
            parts.append(_condition(key, spec))
    return lambda v: all(p(v) for p in parts)


Conjunct = dict[str, frozenset[str]]


def _entity_values(spec: Any) -> frozenset[str] | None:
    if isinstance(spec, str) and spec != "*":
        return frozenset([spec])
    if isinstance(spec, dict):
        if isinstance(spec.get("eq"), str) and spec["eq"] != "*":
            return frozenset([spec["eq"]])
        if isinstance(spec.get("in"), list):
            return frozenset(str(v) for v in spec["in"])
    return None


def _and(left: list[Conjunct], right: list[Conjunct]) -> list[Conjunct]:
    merged: list[Conjunct] = []
    for a in left:
        for b in right:
            both = dict(a)
            for field, values in b.items():
                both[field] = both[field] & values if field in both else values
            if all(both.values()):
                merged.append(both)
    if len(merged) > MAX_SCOPES * 4:
        raise BadRequest("filters expand to too many user/agent/run combinations", field="filters")
    return merged


def _dnf(node: dict[str, Any]) -> list[Conjunct]:
    """The positive entity constraints of a filter, as alternatives: only used to pick which users to read."""
    result: list[Conjunct] = [{}]
    for key, spec in node.items():
        if key == "AND":
            for sub in spec:
                result = _and(result, _dnf(sub))
        elif key == "OR":
            alternatives = [c for sub in spec for c in _dnf(sub)]
            result = _and(result, alternatives)
        elif key in ENTITY_FIELDS:
            values = _entity_values(spec)
            if values is not None:
                result = _and(result, [{key: values}])
    return result


def scopes_for(node: dict[str, Any]) -> list[Scope]:
    scopes: dict[tuple, Scope] = {}
    for conjunct in _dnf(node):
        def single(field: str, conjunct: Conjunct = conjunct) -> str | None:
            values = conjunct.get(field)
            return next(iter(values)) if values is not None and len(values) == 1 else None

        owners: Iterable[str]
        if "user_id" in conjunct:
            owners = conjunct["user_id"]
        else:
            owners = ()
            for field, prefix in OWNER_PREFIXES:
                if field in conjunct:
                    owners = [prefix + v for v in conjunct[field]]
                    break
            else:
                raise BadRequest("filters must name the user_id whose memories to read (or, for memories stored "
                                 "without a user, their agent_id, run_id or app_id); '*' for all users is not "
                                 "supported", field="filters")
        for owner in owners:
            scope = Scope(user_id=owner, agent_id=single("agent_id"), session_id=single("run_id"))
            scopes[(scope.user_id, scope.agent_id, scope.session_id)] = scope
    if len(scopes) > MAX_SCOPES:
        raise BadRequest(f"filters name more than {MAX_SCOPES} users/agents/runs at once", field="filters")
    return list(scopes.values())


def _parse_filters_text(text: str | None) -> dict[str, Any] | None:
    """Query-string filters: JSON, or the Python dict text some clients send; '[object Object]' means none."""
    if not text or text == "[object Object]":
        return None
    try:
        value = strict_json(text, "filters")  # nesting is checked before either parser runs
    except MalformedJson:
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise BadRequest("filters must be a JSON object", field="filters") from None
        check_value(value, "filters")
    if not isinstance(value, dict):
        raise BadRequest("filters must be a JSON object", field="filters")
    return value or None


@dataclass(frozen=True)
class Selection:
    scopes: list[Scope]
    predicate: Predicate
    filtered: bool  # whether the predicate may reject memories the scopes admit


def _plain(filters: dict[str, Any] | None) -> bool:
    return bool(filters) and all(k in ENTITY_FIELDS and isinstance(v, str) and v != "*" for k, v in filters.items())


def select(request: web.Request, entities: Any, filters: dict[str, Any] | None,
           extra: list[dict[str, Any]] | None = None) -> Selection:
    """Which users' memories to read (scopes) and the exact test every memory must pass (predicate)."""
    ids = {f: getattr(entities, f, None) for f in ENTITY_FIELDS}
    if _plain(filters):  # {"user_id": "alice"}: the same as naming the ids directly
        for field, value in filters.items():
            if ids[field] not in (None, value):
                raise BadRequest(f"{field} is given twice with different values", field=field)
            ids[field] = value
        filters = None
    who = principal(request)
    if ids["user_id"] is None and who.user_id is not None:  # a key bound to a user reads that user's memories
        ids["user_id"] = who.user_id
    clauses: list[dict[str, Any]] = [{f: v} for f, v in ids.items() if v]
    if filters:
        clauses.append(filters)
    clauses.extend(extra or [])
    if not clauses:
        raise BadRequest("Name whose memories to use: user_id, agent_id, run_id or app_id (at the top level or in "
                         "filters)", field="filters")
    if who.agent_id is not None and ids["agent_id"] is None:  # a key bound to an agent sees that agent's only
        clauses.append({"agent_id": who.agent_id})
    checks = [compile_filter(clause) for clause in clauses]
    scopes = [who.restrict(scope, fill_agent=True) for scope in scopes_for({"AND": clauses})]
    # user/agent/run ids alone are exactly what the scopes admit; anything else is checked memory by memory.
    return Selection(scopes, lambda view: all(check(view) for check in checks),
                     filtered=bool(filters or extra or ids["app_id"]))


def _entities_from(ids: Any, filters: dict[str, Any] | None) -> Entities:
    """Top-level entity ids, completed by plain ones given in filters (add, delete_all)."""
    values = {f: getattr(ids, f, None) for f in ENTITY_FIELDS}
    for field in ENTITY_FIELDS:
        given = (filters or {}).get(field)
        if values[field] is None and isinstance(given, str) and given != "*":
            values[field] = check_identifier(given, f"filters.{field}")  # it may become a stored id
    return Entities(**values)


async def collect(service: MemoryService, selection: Selection) -> list[Memory]:
    """Every memory the selection admits, newest first."""
    found: dict[str, Memory] = {}
    for scope in selection.scopes:
        offset = 0
        while offset < MAX_SCAN:
            batch, total = await service.list(scope, limit=500, offset=offset)
            for memory in batch:
                if memory.id not in found and selection.predicate(_view(memory)):
                    found[memory.id] = memory
            offset += len(batch)
            if not batch or offset >= total:
                break
    return sorted(found.values(), key=lambda m: (m.created_at, m.id), reverse=True)


# -- events of adds (the platform's asynchronous mode) ---------------------------------------------------------
# Kept as jobs in the record store (api.events): readable from every process and after a restart.

EVENT_STATUS = {"queued": "PENDING", "running": "RUNNING", "done": "SUCCEEDED", "failed": "FAILED"}


def _platform_event(job: Job) -> EventResponse:
    end = job.finished_at or job.started_at or job.created_at
    return EventResponse(
        id=job.id, event_type="ADD", status=EVENT_STATUS[job.status], payload=job.payload.get("request") or {},
        results=[_event(e.memory, e.event, e.previous_content) for e in events_of(job)],
        created_at=iso(job.created_at), updated_at=iso(end),
        started_at=iso(job.started_at) if job.started_at else None,
        completed_at=iso(job.finished_at) if job.finished_at else None,
        latency=round((job.finished_at - job.created_at).total_seconds() * 1000, 1) if job.finished_at else None,
        error=job.error)


# -- handlers -------------------------------------------------------------------------------------------------


async def mem0_ping(request: web.Request) -> web.Response:
    # mem0's Python client refuses to start without an organization and a project: this service is one of each.
    return json_response(PingResponse(status="ok", message="API key is valid", org_id=ORG_ID, project_id=PROJECT_ID))


def _messages(raw: list | str) -> list[tuple[str, str]]:
    if isinstance(raw, str):
        raw_list: list[tuple[str, Any]] = [("user", raw)]
    else:
        raw_list = [(m.role, m.content) for m in raw]
    turns = []
    for position, (role, content) in enumerate(raw_list):
        if not isinstance(content, str):
            raise BadRequest(f"messages[{position}].content must be text: images and other media are not supported",
                             field=f"messages.{position}.content")
        if role == "system" or not content.strip():
            continue
        turns.append((role, _text(content, f"messages.{position}.content")))
    if not turns:
        raise BadRequest("messages contain no user or assistant text to remember", field="messages")
    return turns


async def _add(request: web.Request, *, version: int) -> web.Response:
    body = await parse_body(request, AddRequest)
    who = principal(request)
    _reject_unsupported(enable_graph=body.enable_graph, timestamp=body.timestamp, immutable=body.immutable)
    expires_at = _expiry(body.expiration_date)
    entities = _entities_from(body, body.filters)
    if entities.user_id is None and who.user_id is not None:  # a key bound to a user writes for that user
        entities = replace(entities, user_id=who.user_id)
    scope = who.restrict(Scope(user_id=entities.owner(), agent_id=entities.agent_id), fill_agent=True)
    owner, agent_id = scope.user_id, scope.agent_id
    turns = _messages(body.messages)
    metadata = dict(body.metadata or {})
    if entities.app_id:
        metadata[APP_ID] = entities.app_id
    if body.categories:
        metadata[CATEGORIES] = [str(c) for c in body.categories]
    service = _service(request)
    queued = body.infer and (body.async_mode if body.async_mode is not None else version == 3)
    if queued:  # answered at once; the job queue learns in the background (GET /v1/event/{id}/)
        if service.extractor is None:
            raise BadRequest("infer=true needs a chat model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible "
                             "server) and optionally MEM0_LLM_MODEL, or send infer=false", field="infer")
        job = await submit(request, extraction_job(
            user_id=owner, messages=[Message(role=r, content=c) for r, c in turns], session_id=entities.run_id,
            agent_id=agent_id, metadata=metadata, actor=ACTOR, expires_at=expires_at,
            request=body.model_dump(mode="json", exclude_none=True)))
        answer = AsyncAddResponse(message="Memory processing has been queued for background execution",
                                  status="PENDING", event_id=job.id)
        return json_response(AddResponse(answer if version == 3 else [answer]), status=202)
    if body.infer:
        conversation = await service.add_conversation(
            user_id=owner, messages=[Message(role=r, content=c) for r, c in turns], infer=True,
            session_id=entities.run_id, agent_id=agent_id, metadata=metadata, actor=ACTOR)
        conversation_events = conversation.events
        if expires_at is not None:
            conversation_events = [
                ConversationEvent(await service.update(e.memory.id, expires_at=expires_at, actor=ACTOR), "ADD")
                if e.event == "ADD" else e for e in conversation_events]
        events = [_event(e.memory, e.event, e.previous_content) for e in conversation_events]
    else:
        memories, created = await service.create_many([
            NewMemory(user_id=owner, content=content, type=MemoryType.interaction, session_id=entities.run_id,
                      agent_id=agent_id, metadata={**metadata, ROLE: metadata.get(ROLE, role)}, expires_at=expires_at)
            for role, content in turns], actor=ACTOR)
        conversation_events = [ConversationEvent(m, "ADD" if new else "NONE") for m, new in zip(memories, created)]
        events = [_event(e.memory, e.event) for e in conversation_events]
    if version == 3 or body.async_mode:
        job = await submit(request, completed_job(user_id=owner, agent_id=agent_id, events=conversation_events,
                                                  request=body.model_dump(mode="json", exclude_none=True)))
        answer = AsyncAddResponse(message=f"Memory processing completed: {len(events)} memories", status="SUCCEEDED",
                                  event_id=job.id, results=events)
        return json_response(AddResponse(answer if version == 3 else [answer]))
    if body.output_format == "v1.1":
        return json_response(AddResponse(Results(results=events)))
    return json_response(AddResponse([LegacyAddEvent(id=e.id, event=e.event, data=EventData(memory=e.memory))
                                      for e in events]))


async def mem0_add_v1(request: web.Request) -> web.Response:
    return await _add(request, version=1)


async def mem0_add_v3(request: web.Request) -> web.Response:
    return await _add(request, version=3)


def _page_url(request: web.Request, page: int, page_size: int) -> str:
    return str(request.url.update_query(page=str(page), page_size=str(page_size)))


def _paged(request: web.Request, memories: list[Memory], page: int | None, page_size: int | None) -> Page:
    page, page_size = page or 1, page_size or DEFAULT_PAGE_SIZE
    start = (page - 1) * page_size
    chunk = memories[start:start + page_size]
    return Page(count=len(memories), results=[to_platform(m) for m in chunk],
                next=_page_url(request, page + 1, page_size) if start + page_size < len(memories) else None,
                previous=_page_url(request, page - 1, page_size) if page > 1 else None)


async def mem0_list_v1(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    _reject_unsupported(enable_graph=query_value(request, "enable_graph"))
    selection = select(request, _entities_from(query, None), _parse_filters_text(query.filters))
    memories = await collect(_service(request), selection)
    if query.page or query.page_size:
        return json_response(PlatformListResponse(_paged(request, memories, query.page, query.page_size)))
    if query.output_format == "v1.1":
        return json_response(PlatformListResponse(ListResults(results=[to_platform(m) for m in memories])))
    return json_response(PlatformListResponse([to_platform(m) for m in memories]))


def _list_extra(body: ListRequest) -> list[dict[str, Any]]:
    extra: list[dict[str, Any]] = []
    if body.categories:
        extra.append({"categories": {"in": body.categories}})
    if body.metadata:
        extra.append({"metadata": body.metadata})
    if body.start_date:
        extra.append({"created_at": {"gte": body.start_date}})
    if body.end_date:
        extra.append({"created_at": {"lte": body.end_date}})
    return extra


async def _list_filtered(request: web.Request, *, version: int) -> web.Response:
    body = await parse_body(request, ListRequest)
    query = parse_query(request, PageQuery)
    _reject_unsupported(enable_graph=body.enable_graph)
    selection = select(request, body, body.filters, _list_extra(body))
    memories = await collect(_service(request), selection)
    if version == 3 or query.page or query.page_size:
        return json_response(PlatformListResponse(_paged(request, memories, query.page, query.page_size)))
    if body.output_format == "v1.1":
        return json_response(PlatformListResponse(ListResults(results=[to_platform(m) for m in memories])))
    return json_response(PlatformListResponse([to_platform(m) for m in memories]))


async def mem0_list_v2(request: web.Request) -> web.Response:
    return await _list_filtered(request, version=2)


async def mem0_list_v3(request: web.Request) -> web.Response:
    return await _list_filtered(request, version=3)


async def _search(request: web.Request, *, version: int) -> web.Response:
    body = await parse_body(request, SearchRequest)
    _reject_unsupported(enable_graph=body.enable_graph)
    selection = select(request, body, body.filters, _list_extra(body))
    top_k = body.top_k or body.limit or DEFAULT_TOP_K
    # The platform's defaults: no threshold on v1/v2, 0.1 on v3.
    threshold = body.threshold if body.threshold is not None else (0.1 if version == 3 else 0.0)
    fetch = min(1000, max(top_k * 4, 50)) if selection.filtered else top_k
    best: dict[str, tuple[Memory, float | None]] = {}
    for scope in selection.scopes:
        hits, _ = await _service(request).search(scope, body.query, threshold=threshold, limit=fetch)
        for hit in hits:
            if not selection.predicate(_view(hit.memory)):
                continue
            kept = best.get(hit.memory.id)
            if kept is None or (hit.relevance_score or 0) > (kept[1] or 0):
                best[hit.memory.id] = (hit.memory, hit.relevance_score)
    ranked = sorted(best.values(), key=lambda pair: pair[1] or 0, reverse=True)[:top_k]
    results = [ScoredMemory(**_fields(m), score=score) for m, score in ranked]
    if version == 3 or body.output_format == "v1.1":
        return json_response(PlatformSearchResponse(SearchResults(results=results)))
    return json_response(PlatformSearchResponse(results))


async def mem0_search_v1(request: web.Request) -> web.Response:
    return await _search(request, version=1)


async def mem0_search_v2(request: web.Request) -> web.Response:
    return await _search(request, version=2)


async def mem0_search_v3(request: web.Request) -> web.Response:
    return await _search(request, version=3)


async def _own_memory(request: web.Request, memory_id: str) -> Memory:
    return await _service(request).get(memory_id, access=principal(request).access)


async def mem0_get_memory(request: web.Request) -> web.Response:
    return json_response(to_platform(await _own_memory(request, request.match_info["memory_id"])))


def _merged_metadata(current: Memory, metadata: dict[str, Any] | None, categories: list[str] | None) -> dict | None:
    """New platform metadata replaces the user's part; the fields this service keeps in metadata stay."""
    if metadata is None and categories is None:
        return None
    kept = {k: current.metadata[k] for k in (*LIFTED, ROLE) if k in current.metadata}
    base = metadata if metadata is not None else {k: v for k, v in current.metadata.items() if k not in LIFTED}
    merged = {**base, **{k: v for k, v in kept.items() if k not in base or k in LIFTED}}
    if categories is not None:
        merged[CATEGORIES] = [str(c) for c in categories]
    return merged


async def mem0_update_memory(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateRequest)
    _reject_unsupported(timestamp=body.timestamp)
    if "expiration_date" in body.model_fields_set and body.expiration_date is None:
        raise NotSupported("Clearing expiration_date is not supported; give a later date instead",
                           field="expiration_date")
    if body.text is None and body.metadata is None and body.categories is None and body.expiration_date is None:
        raise BadRequest("Nothing to update: give text, metadata, categories or expiration_date", field="text")
    for attempt in range(MERGE_ATTEMPTS):
        current = await _own_memory(request, request.match_info["memory_id"])
        merged = _merged_metadata(current, body.metadata, body.categories)
        try:
            # merged metadata is computed from `current`: written only if nobody changed the memory meanwhile
            updated = await _service(request).update(
                current.id, content=_text(body.text, "text"), metadata=merged,
                expires_at=_expiry(body.expiration_date), access=principal(request).access, actor=ACTOR,
                if_version=current.version if merged is not None else None)
            return json_response(to_platform(updated))
        except PreconditionFailed:
            if attempt == MERGE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def mem0_delete_memory(request: web.Request) -> web.Response:
    memory = await _own_memory(request, request.match_info["memory_id"])
    await _service(request).delete(memory.id, access=principal(request).access, actor=ACTOR)
    return json_response(MessageResponse(message="Memory deleted successfully!"))


async def mem0_memory_history(request: web.Request) -> web.Response:
    memory_id = request.match_info["memory_id"]
    events = await _service(request).history(memory_id, access=principal(request).access)
    current = await _service(request).store.get(memory_id)
    user_id = _platform_user(current) if current is not None else None
    categories = _categories(current) if current is not None else []
    return json_response(PlatformHistoryResponse([
        HistoryEntry(id=f"{memory_id}-{position}", memory_id=memory_id, user_id=user_id, old_memory=e.old_content,
                     new_memory=e.new_content, event=e.event.upper(), actor=e.actor, categories=categories,
                     created_at=iso(e.created_at), updated_at=iso(e.created_at))
        for position, e in enumerate(events)]))


async def _delete_selection(service: MemoryService, selection: Selection) -> int:
    if not selection.filtered:
        deleted = 0
        for scope in selection.scopes:
            deleted += await service.delete_scope(scope, actor=ACTOR)
        return deleted
    memories = await collect(service, selection)
    for memory in memories:
        await service.delete(memory.id, actor=ACTOR)
    return len(memories)


async def mem0_delete_all(request: web.Request) -> web.Response:
    query = parse_query(request, EntityQuery)
    selection = select(request, query, _parse_filters_text(query.filters))
    deleted = await _delete_selection(_service(request), selection)
    return json_response(DeleteAllResponse(message="Memories deleted successfully!", deleted=deleted))


async def mem0_batch_update(request: web.Request) -> web.Response:
    body = await parse_body(request, BatchUpdateRequest)
    # Check every item before changing any: a bad id leaves everything as it was.
    plans = []
    for position, item in enumerate(body.memories):
        if item.text is None and item.metadata is None:
            raise BadRequest(f"memories[{position}] has nothing to update: give text or metadata",
                             field=f"memories.{position}")
        current = await _own_memory(request, item.memory_id)
        plans.append((current, _text(item.text, f"memories.{position}.text"), item.metadata))
    for current, text, metadata in plans:
        for attempt in range(MERGE_ATTEMPTS):
            merged = _merged_metadata(current, metadata, None)
            try:
                await _service(request).update(current.id, content=text, metadata=merged, access=principal(request).access,
                                               actor=ACTOR, if_version=current.version if merged is not None else None)
                break
            except PreconditionFailed:
                if attempt == MERGE_ATTEMPTS - 1:
                    raise
                current = await _own_memory(request, current.id)
    return json_response(MessageResponse(message=f"Successfully updated {len(plans)} memories"))


async def mem0_batch_delete(request: web.Request) -> web.Response:
    body = await parse_body(request, BatchDeleteRequest)
    memories = [await _own_memory(request, item.memory_id) for item in body.memories]
    for memory in {m.id: m for m in memories}.values():
        await _service(request).delete(memory.id, access=principal(request).access, actor=ACTOR)
    return json_response(MessageResponse(message=f"Successfully deleted {len(memories)} memories"))


async def _all_memories(request: web.Request) -> list[Memory]:
    """Every memory the key may see (entities are cross-user by nature: one pass over the store)."""
    access, now = principal(request).access, utcnow()
    seen: list[Memory] = []
    async for batch in _service(request).store.iter_all():
        seen.extend(m for m in batch if access.admits(m) and (m.expires_at is None or m.expires_at > now))
    return seen


def _entity_of(memory: Memory, kind: str) -> str | None:
    return {"user": _platform_user(memory), "agent": memory.agent_id, "run": memory.session_id,
            "app": _app_id(memory)}[kind]


async def mem0_list_entities(request: web.Request) -> web.Response:
    stats: dict[tuple[str, str], list] = {}
    for memory in await _all_memories(request):
        for kind in ("user", "agent", "run", "app"):
            name = _entity_of(memory, kind)
            if not name:
                continue
            entry = stats.setdefault((kind, name), [0, memory.created_at, memory.updated_at])
            entry[0] += 1
            entry[1] = min(entry[1], memory.created_at)
            entry[2] = max(entry[2], memory.updated_at)
    results = [Entity(id=f"{kind}:{name}", name=name, type=kind, total_memories=count, created_at=iso(first),
                      updated_at=iso(last)) for (kind, name), (count, first, last) in sorted(stats.items())]
    return json_response(EntitiesResponse(count=len(results), results=results))


async def mem0_delete_entity(request: web.Request) -> web.Response:
    return await _delete_entity(request)


async def _delete_entity(request: web.Request) -> web.Response:
    kind, name = request.match_info["entity_type"], request.match_info["entity_id"]
    if kind not in ("user", "agent", "run", "app"):
        raise BadRequest("entity type must be user, agent, run or app", field="entity_type")
    who = principal(request)
    service = _service(request)
    if kind == "user":
        deleted = await service.delete_scope(who.restrict(Scope(user_id=name), fill_agent=True), actor=ACTOR)
    else:
        matching = [m for m in await _all_memories(request) if _entity_of(m, kind) == name]
        deleted = 0
        if kind == "app":
            for memory in matching:
                await service.delete(memory.id, actor=ACTOR)
            deleted = len(matching)
        else:
            for owner in sorted({m.user_id for m in matching}):
                scope = (Scope(user_id=owner, agent_id=name) if kind == "agent"
                         else Scope(user_id=owner, session_id=name, agent_id=who.agent_id))
                deleted += await service.delete_scope(scope, actor=ACTOR)
    if not deleted:
        raise NotFound(f"No memories of {kind} '{name}'")
    return json_response(DeleteAllResponse(message="Entity deleted successfully.", deleted=deleted))


async def mem0_delete_entity_v1(request: web.Request) -> web.Response:
    return await _delete_entity(request)


async def mem0_get_event(request: web.Request) -> web.Response:
    event_id = check_identifier(request.match_info["event_id"], "event_id")
    return json_response(_platform_event(await load_event(request, event_id)))


def unsupported(name: str, feature: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        raise NotSupported(f"{feature} is not supported by this self-hosted service")

    handler.__name__ = handler.__qualname__ = f"mem0_{name}"
    return handler

