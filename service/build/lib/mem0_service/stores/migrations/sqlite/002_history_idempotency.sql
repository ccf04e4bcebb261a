CREATE TABLE memory_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    old_content TEXT,
    new_content TEXT,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_history_memory ON memory_history (memory_id, seq);
CREATE INDEX ix_history_user ON memory_history (user_id);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_memories_expires ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX ix_memories_session_activity ON memories (session_id, updated_at) WHERE session_id IS NOT NULL;
