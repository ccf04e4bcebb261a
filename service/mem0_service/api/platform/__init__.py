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

Modules: `vocabulary` (the field mapping), `filters` (platform filters to the core filter language, compiled by
the record store), `events` (adds and their events), `handlers` (every other route).
"""

from mem0_service.api.platform.events import mem0_add_v1, mem0_add_v3, mem0_get_event
from mem0_service.api.platform.handlers import (
    mem0_batch_delete,
    mem0_batch_update,
    mem0_delete_all,
    mem0_delete_entity,
    mem0_delete_entity_v1,
    mem0_delete_memory,
    mem0_get_memory,
    mem0_list_entities,
    mem0_list_v1,
    mem0_list_v2,
    mem0_list_v3,
    mem0_memory_history,
    mem0_ping,
    mem0_search_v1,
    mem0_search_v2,
    mem0_search_v3,
    mem0_update_memory,
    unsupported,
)

__all__ = ["mem0_add_v1", "mem0_add_v3", "mem0_batch_delete", "mem0_batch_update", "mem0_delete_all",
           "mem0_delete_entity", "mem0_delete_entity_v1", "mem0_delete_memory", "mem0_get_event", "mem0_get_memory",
           "mem0_list_entities", "mem0_list_v1", "mem0_list_v2", "mem0_list_v3", "mem0_memory_history", "mem0_ping",
           "mem0_search_v1", "mem0_search_v2", "mem0_search_v3", "mem0_update_memory", "unsupported"]
