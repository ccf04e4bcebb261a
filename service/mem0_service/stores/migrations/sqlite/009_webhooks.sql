-- Webhooks and their delivery outbox. The triggers queue one delivery per matching webhook in the transaction that
-- changes the memory: a committed change is always announced, a rolled-back one never.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    user_id TEXT,
    agent_id TEXT,
    events TEXT NOT NULL,
    description TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    lease_until TEXT
);

CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    event TEXT NOT NULL,
    memory_id TEXT,
    user_id TEXT,
    agent_id TEXT,
    session_id TEXT,
    memory_type TEXT,
    content TEXT,
    previous_content TEXT,
    metadata TEXT,
    data TEXT,
    occurred_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    response_status INTEGER,
    last_error TEXT,
    delivered_at TEXT
);
CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (webhook_id, status, seq);
CREATE INDEX ix_webhook_deliveries_memory ON webhook_deliveries (memory_id);

CREATE TRIGGER webhook_memory_created AFTER INSERT ON memories BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event, memory_id, user_id, agent_id, session_id, memory_type, content,
                                    metadata)
    SELECT w.id, 'memory.created', NEW.id, NEW.user_id, NEW.agent_id, NEW.session_id, NEW.type, NEW.content,
           NEW.metadata
    FROM webhooks w
    WHERE w.enabled = 1 AND (w.user_id IS NULL OR w.user_id = NEW.user_id)
      AND (w.agent_id IS NULL OR w.agent_id = NEW.agent_id)
      AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = 'memory.created');
END;

CREATE TRIGGER webhook_memory_updated AFTER UPDATE ON memories
WHEN OLD.content IS NOT NEW.content OR OLD.metadata IS NOT NEW.metadata OR OLD.type IS NOT NEW.type
     OR OLD.expires_at IS NOT NEW.expires_at
BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event, memory_id, user_id, agent_id, session_id, memory_type, content,
                                    previous_content, metadata)
    SELECT w.id, 'memory.updated', NEW.id, NEW.user_id, NEW.agent_id, NEW.session_id, NEW.type, NEW.content,
           OLD.content, NEW.metadata
    FROM webhooks w
    WHERE w.enabled = 1 AND (w.user_id IS NULL OR w.user_id = NEW.user_id)
      AND (w.agent_id IS NULL OR w.agent_id = NEW.agent_id)
      AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = 'memory.updated');
END;

CREATE TRIGGER webhook_memory_deleted AFTER DELETE ON memories BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event, memory_id, user_id, agent_id, session_id, memory_type, content,
                                    metadata)
    SELECT w.id, 'memory.deleted', OLD.id, OLD.user_id, OLD.agent_id, OLD.session_id, OLD.type, OLD.content,
           OLD.metadata
    FROM webhooks w
    WHERE w.enabled = 1 AND (w.user_id IS NULL OR w.user_id = OLD.user_id)
      AND (w.agent_id IS NULL OR w.agent_id = OLD.agent_id)
      AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = 'memory.deleted');
END;

-- GDPR erasure scrubs a memory's contents from its history: deliveries not yet made lose them too.
CREATE TRIGGER webhook_memory_erased AFTER UPDATE OF old_content, new_content ON memory_history
WHEN NEW.old_content IS NULL AND NEW.new_content IS NULL BEGIN
    UPDATE webhook_deliveries SET content = NULL, previous_content = NULL, metadata = NULL
    WHERE memory_id = NEW.memory_id AND status = 'pending';
END;
