"""Every HTTP route in one table, with the access it needs: the router, the access policy and the OpenAPI
document all read it."""

from __future__ import annotations

from mem0_service.api import console, events, health, keys, memories, messages, models, ops, platform, users, webhooks
from mem0_service.api import message_models as mm
from mem0_service.api import platform_models as pm
from mem0_service.api.idempotency import IdempotencyHeaders
from mem0_service.api.policy import Route
from mem0_service.api.preconditions import PreconditionHeaders
from mem0_service.mcp import http as mcp_http
from mem0_service.mcp.models import McpRequest, McpResponse

ROUTES: list[Route] = [
    Route("GET", "/api/health", health.health, "Service status (public)", "health", models.HealthResponse,
          access="public"),
    Route("GET", "/api/auth/check", health.auth_check, "Check that the API key is valid", "health",
          models.AuthCheckResponse),
    Route("POST", "/api/memories", memories.create_memory, "Create a memory from content (200 with the existing one if "
          "an exact duplicate exists in the same scope), or learn from a conversation in messages",
          "memories", (models.MemoryOut, models.ConversationResponse), body=models.MemoryCreate, status=201,
          access="write", headers=IdempotencyHeaders, accepted=events.EventAccepted),
    Route("GET", "/api/events/{event_id}", events.get_event, "The outcome of an asynchronous add: queued, running, "
          "done (with the ADD/UPDATE/DELETE events) or failed (with the cause)", "memories", events.EventOut),
    Route("POST", "/api/memories/batch", memories.create_batch, "Create up to 1000 memories in one call; each item "
          "is validated on its own", "memories", models.BatchResponse, body=models.MemoryBatch, status=201,
          access="write", headers=IdempotencyHeaders),
    Route("POST", "/api/memories/search", memories.search_memories, "Find relevant memories", "memories",
          models.SearchResponse, body=models.MemorySearch),
    Route("GET", "/api/memories/user/{user_id}", memories.list_user_memories, "List a user's memories, newest first",
          "memories", models.ListResponse, query=models.MemoryListQuery),
    Route("DELETE", "/api/memories/user/{user_id}", memories.delete_user_memories,
          "Delete every memory of a user (GDPR erasure), optionally narrowed", "memories", models.BulkDeleteResponse,
          query=models.ScopeDeleteQuery, access="write", audited=True),
    Route("GET", "/api/memories/user/{user_id}/export", memories.export_user_memories,
          "Export every memory of a user (GDPR data access)", "memories", models.ExportResponse),
    Route("DELETE", "/api/sessions/{session_id}", memories.end_session,
          "End a session: remove its session-level memories", "sessions", models.BulkDeleteResponse,
          query=models.SessionEndQuery, access="write", audited=True),
    Route("POST", "/api/sessions/{session_id}/messages", messages.append_messages,
          "Append one or many messages to a session's log (numbered by the service in the order received)",
          "sessions", mm.MessagesAppended, body=mm.MessagesAppend, status=201, access="write"),
    Route("GET", "/api/sessions/{session_id}/messages", messages.read_messages,
          "A session's messages, oldest first: the last `limit`, or a page before/after a seq", "sessions",
          mm.MessageLogResponse, query=mm.MessagesQuery),
    Route("DELETE", "/api/sessions/{session_id}/messages", messages.clear_messages,
          "Clear a session's message log (long-term memories stay)", "sessions", models.BulkDeleteResponse,
          query=mm.MessagesClearQuery, access="write", audited=True),
    Route("GET", "/api/memories/{memory_id}/history", memories.memory_history,
          "Every change of a memory: ADD, UPDATE (old and new content), DELETE", "memories", models.HistoryResponse),
    Route("GET", "/api/memories/{memory_id}", memories.get_memory, "Get a memory", "memories", models.MemoryOut,
          etag=True),
    Route("PUT", "/api/memories/{memory_id}", memories.update_memory, "Update a memory's content, type or metadata "
          "(only the fields given change)", "memories", models.MemoryOut, body=models.MemoryUpdate,
          access="write", headers=PreconditionHeaders, etag=True),
    Route("DELETE", "/api/memories/{memory_id}", memories.delete_memory, "Delete a memory", "memories",
          models.DeleteResponse, query=models.MemoryDeleteQuery, access="write", headers=PreconditionHeaders),
    Route("GET", "/api/ready", ops.readiness, "Readiness: record store, vector index and embedder all answer "
          "(503 names the failing one); also GET /api/health?deep=1", "health", ops.ReadinessResponse,
          access="public"),
    Route("POST", "/api/keys", keys.create_key, "Create an API key bound to a user and/or agent (admin only; the "
          "secret is shown once)", "keys", keys.KeyCreated, body=keys.KeyCreate, status=201,
          access="admin", audited=True),
    Route("GET", "/api/keys", keys.list_keys, "List API keys (admin only; secrets are never shown)", "keys",
          keys.KeyList, query=keys.KeyListQuery, access="admin", audited=True),
    Route("DELETE", "/api/keys/{key_id}", keys.revoke_key, "Revoke an API key (admin only)", "keys", keys.KeyRevoked,
          access="admin", audited=True),
    Route("POST", "/api/webhooks", webhooks.create_webhook, "Register a URL to be told about memory changes (an admin "
          "key: any or every user; a user-bound key: its own user); the signing secret is shown once", "webhooks",
          webhooks.WebhookCreated, body=webhooks.WebhookCreate, status=201, access="write", audited=True),
    Route("GET", "/api/webhooks", webhooks.list_webhooks, "The webhooks this key may see", "webhooks",
          webhooks.WebhookList),
    Route("GET", "/api/webhooks/{webhook_id}", webhooks.get_webhook, "A webhook and its delivery state", "webhooks",
          webhooks.WebhookOut),
    Route("DELETE", "/api/webhooks/{webhook_id}", webhooks.delete_webhook, "Remove a webhook and its queue",
          "webhooks", webhooks.WebhookDeleted, access="write", audited=True),
    Route("GET", "/api/webhooks/{webhook_id}/deliveries", webhooks.list_deliveries, "A webhook's delivery log, "
          "newest first: attempts, the receiver's status, the last error", "webhooks", webhooks.DeliveryList,
          query=webhooks.DeliveryQuery),
    Route("GET", "/api/users", users.list_users, "Users that have memories, by id (admin only)", "users",
          models.UserListResponse, query=models.UserListQuery, access="admin"),
    # The Model Context Protocol (Streamable HTTP, stateless): the same memories as tools for MCP clients. Any key
    # may connect; each tool is offered only to keys that may use it (write tools to writers, erasure to erasers).
    Route("POST", mcp_http.MCP_PATH, mcp_http.handle_mcp, "MCP endpoint (Streamable HTTP): JSON-RPC requests such as "
          "tools/list and tools/call; the key decides which tools and which user", "mcp", McpResponse,
          body=McpRequest),
    Route("GET", "/metrics", ops.metrics_endpoint, "Prometheus metrics (admin key unless MEM0_METRICS_PUBLIC=true)",
          "health", None, access="admin", public_setting="metrics_public"),
]


def mem0(method: str, path: str, handler, summary: str, response, **kwargs) -> Route:
    """mem0's hosted platform API, for mem0's own clients (host + key is all they change): errors carry `detail`."""
    return Route(method, path, handler, summary, "mem0 platform", response, errors="mem0", **kwargs)


# Key: "Token <key>" (mem0's clients) or Bearer.
ROUTES += [
    mem0("GET", "/v1/ping/", platform.mem0_ping, "Check the API key (mem0 clients call it first)", pm.PingResponse),
    mem0("POST", "/v1/memories/", platform.mem0_add_v1, "Add memories from messages (infer=false stores them as "
         "given)", pm.AddResponse, body=pm.AddRequest, access="write"),
    mem0("GET", "/v1/memories/", platform.mem0_list_v1, "List memories of a user/agent/run", pm.PlatformListResponse,
         query=pm.ListQuery),
    mem0("DELETE", "/v1/memories/", platform.mem0_delete_all, "Delete every memory of a user/agent/run",
         pm.DeleteAllResponse, query=pm.EntityQuery, access="write", audited=True),
    mem0("POST", "/v1/memories/search/", platform.mem0_search_v1, "Search memories (answers a list)",
         pm.PlatformSearchResponse, body=pm.SearchRequest),
    mem0("GET", "/v1/memories/{memory_id}/", platform.mem0_get_memory, "Get a memory", pm.PlatformMemory),
    mem0("PUT", "/v1/memories/{memory_id}/", platform.mem0_update_memory, "Update a memory's text, metadata or expiry",
         pm.PlatformMemory, body=pm.UpdateRequest, access="write"),
    mem0("DELETE", "/v1/memories/{memory_id}/", platform.mem0_delete_memory, "Delete a memory", pm.MessageResponse,
         access="write"),
    mem0("GET", "/v1/memories/{memory_id}/history/", platform.mem0_memory_history, "A memory's history",
         pm.PlatformHistoryResponse),
    mem0("PUT", "/v1/batch/", platform.mem0_batch_update, "Update up to 1000 memories (all or none)",
         pm.MessageResponse, body=pm.BatchUpdateRequest, access="write"),
    mem0("DELETE", "/v1/batch/", platform.mem0_batch_delete, "Delete up to 1000 memories (all or none)",
         pm.MessageResponse, body=pm.BatchDeleteRequest, access="write"),
    mem0("GET", "/v1/entities/", platform.mem0_list_entities, "Users, agents, runs and apps that have memories",
         pm.EntitiesResponse),
    mem0("DELETE", "/v1/entities/{entity_type}/{entity_id}/", platform.mem0_delete_entity_v1,
         "Delete every memory of a user, agent, run or app", pm.DeleteAllResponse, access="write", audited=True),
    mem0("DELETE", "/v2/entities/{entity_type}/{entity_id}/", platform.mem0_delete_entity,
         "Delete every memory of a user, agent, run or app", pm.DeleteAllResponse, access="write", audited=True),
    mem0("GET", "/v1/event/{event_id}/", platform.mem0_get_event, "The outcome of an add (async mode, v3)",
         pm.EventResponse),
    mem0("POST", "/v2/memories/", platform.mem0_list_v2, "List memories with filters (AND/OR/NOT)",
         pm.PlatformListResponse, body=pm.ListRequest, query=pm.PageQuery),
    mem0("POST", "/v2/memories/search/", platform.mem0_search_v2, "Search with filters (answers a list)",
         pm.PlatformSearchResponse, body=pm.SearchRequest),
    mem0("POST", "/v3/memories/add/", platform.mem0_add_v3, "Add memories (answers the completed event)",
         pm.AddResponse, body=pm.AddRequest, access="write"),
    mem0("POST", "/v3/memories/", platform.mem0_list_v3, "List memories with filters, paginated",
         pm.PlatformListResponse, body=pm.ListRequest, query=pm.PageQuery),
    mem0("POST", "/v3/memories/search/", platform.mem0_search_v3, "Search with filters ({results: [...]})",
         pm.PlatformSearchResponse, body=pm.SearchRequest),
] + [
    mem0(method, path, platform.unsupported(name, feature), f"Not supported: {feature} (JSON 501)",
         pm.NotSupportedResponse)
    for method, path, name, feature in [
        ("POST", "/v1/exports/", "create_export", "Memory exports"),
        ("POST", "/v1/exports/get/", "get_export", "Memory exports"),
        ("POST", "/v1/summary/", "get_summary", "Memory summaries"),
        ("POST", "/v1/feedback/", "feedback", "Memory feedback"),
        ("GET", "/v1/events/", "list_events", "Listing events"),
        ("GET", "/v2/entities/user/{entity_id}/profile/", "get_profile", "User profiles"),
        ("POST", "/v2/profiles/jobs/", "profile_jobs", "User profiles"),
        ("GET", "/v2/profiles/settings/", "get_profile_settings", "User profiles"),
        ("POST", "/v2/profiles/settings/", "update_profile_settings", "User profiles"),
        ("GET", "/api/v1/webhooks/projects/{project_id}/", "get_webhooks", "Webhooks"),
        ("POST", "/api/v1/webhooks/projects/{project_id}/", "create_webhook", "Webhooks"),
        ("PUT", "/api/v1/webhooks/{webhook_id}/", "update_webhook", "Webhooks"),
        ("DELETE", "/api/v1/webhooks/{webhook_id}/", "delete_webhook", "Webhooks"),
        ("GET", "/api/v1/orgs/organizations/{org_id}/projects/{project_id}/", "get_project",
         "Organizations and projects"),
        ("PATCH", "/api/v1/orgs/organizations/{org_id}/projects/{project_id}/", "update_project",
         "Organizations and projects"),
    ]
]


# The web console (MEM0_UI): public files that hold no data; the page calls the API above with the user's key.
CONSOLE_ROUTES: list[Route] = [
    Route("GET", "/ui", console.console_redirect, "The web console (redirects to /ui/)", "console", None,
          access="public"),
    Route("GET", "/ui/", console.console_page, "The web console", "console", None, access="public"),
    Route("GET", "/ui/{asset}", console.console_asset, "The web console's scripts and styles", "console", None,
          access="public"),
]
