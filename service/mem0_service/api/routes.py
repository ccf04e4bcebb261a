"""Every HTTP route in one table: the router and the OpenAPI document both read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel

from mem0_service.api import health, keys, memories, models, ops

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    response: type[BaseModel] | tuple[type[BaseModel], ...] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    public: bool = False


ROUTES: list[Route] = [
    Route("GET", "/api/health", health.health, "Service status (public)", "health", models.HealthResponse, public=True),
    Route("GET", "/api/auth/check", health.auth_check, "Check that the API key is valid", "health",
          models.AuthCheckResponse),
    Route("POST", "/api/memories", memories.create_memory, "Create a memory from content (200 with the existing one if "
          "an exact duplicate exists in the same scope), or learn from a conversation in messages",
          "memories", (models.MemoryOut, models.ConversationResponse), body=models.MemoryCreate, status=201),
    Route("POST", "/api/memories/batch", memories.create_batch, "Create up to 1000 memories in one call; each item "
          "is validated on its own", "memories", models.BatchResponse, body=models.MemoryBatch, status=201),
    Route("POST", "/api/memories/search", memories.search_memories, "Find relevant memories", "memories",
          models.SearchResponse, body=models.MemorySearch),
    Route("GET", "/api/memories/user/{user_id}", memories.list_user_memories, "List a user's memories, newest first",
          "memories", models.ListResponse, query=models.MemoryListQuery),
    Route("DELETE", "/api/memories/user/{user_id}", memories.delete_user_memories,
          "Delete every memory of a user (GDPR erasure), optionally narrowed", "memories", models.BulkDeleteResponse,
          query=models.ScopeDeleteQuery),
    Route("GET", "/api/memories/user/{user_id}/export", memories.export_user_memories,
          "Export every memory of a user (GDPR data access)", "memories", models.ExportResponse),
    Route("DELETE", "/api/sessions/{session_id}", memories.end_session,
          "End a session: remove its session-level memories", "sessions", models.BulkDeleteResponse,
          query=models.SessionEndQuery),
    Route("GET", "/api/memories/{memory_id}/history", memories.memory_history,
          "Every change of a memory: ADD, UPDATE (old and new content), DELETE", "memories", models.HistoryResponse),
    Route("GET", "/api/memories/{memory_id}", memories.get_memory, "Get a memory", "memories", models.MemoryOut),
    Route("PUT", "/api/memories/{memory_id}", memories.update_memory, "Update a memory's content, type or metadata",
          "memories", models.MemoryOut, body=models.MemoryUpdate),
    Route("DELETE", "/api/memories/{memory_id}", memories.delete_memory, "Delete a memory", "memories",
          models.DeleteResponse, query=models.MemoryDeleteQuery),
    Route("GET", "/api/ready", ops.readiness, "Readiness: record store, vector index and embedder all answer "
          "(503 names the failing one); also GET /api/health?deep=1", "health", ops.ReadinessResponse, public=True),
    Route("POST", "/api/keys", keys.create_key, "Create an API key bound to a user and/or agent (admin only; the "
          "secret is shown once)", "keys", keys.KeyCreated, body=keys.KeyCreate, status=201),
    Route("GET", "/api/keys", keys.list_keys, "List API keys (admin only; secrets are never shown)", "keys",
          keys.KeyList, query=keys.KeyListQuery),
    Route("DELETE", "/api/keys/{key_id}", keys.revoke_key, "Revoke an API key (admin only)", "keys", keys.KeyRevoked),
    Route("GET", "/metrics", ops.metrics_endpoint, "Prometheus metrics (admin key unless MEM0_METRICS_PUBLIC=true)",
          "health", None),
]


def setup_routes(app: web.Application, routes: list[Route]) -> None:
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
        if route.method == "GET":  # curl -I: HEAD answers wherever GET does
            app.router.add_route("HEAD", route.path, route.handler)
