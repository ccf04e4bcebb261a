"""The platform routes' handlers: list, search, get, update, delete, batches and entities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web

from mem0_service.api.parsing import parse_body, parse_query, query_value
from mem0_service.api.platform.filters import Selection, _list_extra, _parse_filters_text, select
from mem0_service.api.platform.vocabulary import (
    ACTOR,
    APP_ID,
    CATEGORIES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TOP_K,
    LIFTED,
    MERGE_ATTEMPTS,
    ORG_ID,
    OWNER_PREFIXES,
    PROJECT_ID,
    ROLE,
    NotSupported,
    _categories,
    _entities_from,
    _expiry,
    _fields,
    _platform_user,
    _reject_unsupported,
    _service,
    _text,
    to_platform,
)
from mem0_service.api.platform_models import (
    BatchDeleteRequest,
    BatchUpdateRequest,
    DeleteAllResponse,
    EntitiesResponse,
    Entity,
    EntityQuery,
    HistoryEntry,
    ListQuery,
    ListRequest,
    ListResults,
    MessageResponse,
    Page,
    PageQuery,
    PingResponse,
    PlatformHistoryResponse,
    PlatformListResponse,
    PlatformSearchResponse,
    ScoredMemory,
    SearchRequest,
    SearchResults,
    UpdateRequest,
)
from mem0_service.api.responses import json_response
from mem0_service.auth import principal
from mem0_service.core.access import Access
from mem0_service.core.memory import Memory, Scope
from mem0_service.core.service import MemoryService
from mem0_service.errors import BadRequest, NotFound, PreconditionFailed
from mem0_service.stores.base import iso


async def mem0_ping(request: web.Request) -> web.Response:
    # mem0's Python client refuses to start without an organization and a project: this service is one of each.
    return json_response(PingResponse(status="ok", message="API key is valid", org_id=ORG_ID, project_id=PROJECT_ID))


def _page_url(request: web.Request, page: int, page_size: int) -> str:
    return str(request.url.update_query(page=str(page), page_size=str(page_size)))


async def _listing(request: web.Request, selection: Selection, *, paged: bool, page: int | None,
                   page_size: int | None, output_format: str | None) -> web.Response:
    """Every memory of the selection, or one page of them: counted and cut by the record store."""
    service = _service(request)
    if not paged:
        memories, _ = await service.find(selection.where, limit=None)
        if output_format == "v1.1":
            return json_response(PlatformListResponse(ListResults(results=[to_platform(m) for m in memories])))
        return json_response(PlatformListResponse([to_platform(m) for m in memories]))
    page, page_size = page or 1, page_size or DEFAULT_PAGE_SIZE
    start = (page - 1) * page_size
    memories, total = await service.find(selection.where, limit=page_size, offset=start)
    return json_response(PlatformListResponse(Page(
        count=total, results=[to_platform(m) for m in memories],
        next=_page_url(request, page + 1, page_size) if start + page_size < total else None,
        previous=_page_url(request, page - 1, page_size) if page > 1 else None)))


async def mem0_list_v1(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    _reject_unsupported(enable_graph=query_value(request, "enable_graph"))
    selection = select(request, _entities_from(query, None), _parse_filters_text(query.filters))
    return await _listing(request, selection, paged=bool(query.page or query.page_size), page=query.page,
                          page_size=query.page_size, output_format=query.output_format)


async def _list_filtered(request: web.Request, *, version: int) -> web.Response:
    body = await parse_body(request, ListRequest)
    query = parse_query(request, PageQuery)
    _reject_unsupported(enable_graph=body.enable_graph)
    selection = select(request, body, body.filters, _list_extra(body))
    return await _listing(request, selection, paged=bool(version == 3 or query.page or query.page_size),
                          page=query.page, page_size=query.page_size, output_format=body.output_format)


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
    # A filtered search weighs more candidates, as many as an unfiltered one would have had to pass the filter.
    fetch = min(1000, max(top_k * 4, 50)) if selection.filtered else top_k
    narrowing = selection.narrowing if selection.filtered else None
    best: dict[str, tuple[Memory, float | None]] = {}
    # The platform's search has no rewrite field: the service's default (MEM0_QUERY_REWRITE) decides.
    rewrite = await _service(request).rewrite_query(body.query, None)
    for scope in selection.scopes:
        hits, _ = await _service(request).search(scope, body.query, threshold=threshold, limit=fetch, where=narrowing,
                                                 alternatives=rewrite.queries)
        for hit in hits:
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
    return await service.delete_where(selection.where, actor=ACTOR)


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


async def mem0_list_entities(request: web.Request) -> web.Response:
    # The record store counts the memories per owner (user, agent, run, app): one row per group, never every memory.
    groups = await _service(request).owner_groups(principal(request).access, APP_ID)
    stats: dict[tuple[Literal["user", "agent", "run", "app"], str], list] = {}
    for group in groups:
        owners = {"agent_id": group.agent_id, "run_id": group.session_id, "app_id": group.tag}
        owned_by_platform = any(group.user_id == prefix + owner for f, prefix in OWNER_PREFIXES if (owner := owners[f]))
        names = {"user": None if owned_by_platform else group.user_id, "agent": group.agent_id,
                 "run": group.session_id, "app": group.tag}
        kinds: tuple[Literal["user", "agent", "run", "app"], ...] = ("user", "agent", "run", "app")
        for kind in kinds:
            name = names[kind]
            if not name:
                continue
            entry = stats.setdefault((kind, name), [0, group.first_created, group.last_updated])
            entry[0] += group.count
            entry[1] = min(entry[1], group.first_created)
            entry[2] = max(entry[2], group.last_updated)
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
        erased = await service.erase(who.restrict(Scope(user_id=name), fill_agent=True), actor=ACTOR)
        deleted, found = erased.memories, erased.memories + erased.messages
    else:
        # Entities cross users: the record store names the owners (one row per group, never every memory) and
        # deletes each owner's part in one statement.
        deleted = 0
        for scope in await _entity_scopes(service, who.access, kind, name):
            if kind == "app":  # a tag on memories, not an owner of message logs or jobs
                deleted += await service.delete_scope(scope, actor=ACTOR)
            else:
                deleted += (await service.erase(scope, actor=ACTOR)).memories
        found = deleted
    if not found:
        raise NotFound(f"No memories of {kind} '{name}'")
    return json_response(DeleteAllResponse(message="Entity deleted successfully.", deleted=deleted))


async def _entity_scopes(service: MemoryService, access: Access, kind: str, name: str) -> list[Scope]:
    """One scope per user that has live memories of the agent, run or app `name`, within what `access` admits."""
    groups = await service.owner_groups(access, APP_ID)
    field = {"agent": "agent_id", "run": "session_id", "app": "tag"}[kind]
    owners = sorted({g.user_id for g in groups if getattr(g, field) == name})
    if kind == "agent":
        return [Scope(user_id=owner, agent_id=name) for owner in owners]
    if kind == "run":
        return [Scope(user_id=owner, session_id=name, agent_id=access.agent_id) for owner in owners]
    return [Scope(user_id=owner, agent_id=access.agent_id, metadata=((APP_ID, name),)) for owner in owners]


async def mem0_delete_entity_v1(request: web.Request) -> web.Response:
    return await _delete_entity(request)


def unsupported(name: str, feature: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        raise NotSupported(f"{feature} is not supported by this self-hosted service")

    handler.__name__ = handler.__qualname__ = f"mem0_{name}"
    return handler

