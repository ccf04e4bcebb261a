-- Webhooks and their delivery outbox. The trigger queues one delivery per matching webhook in the transaction that
-- changes the memory: a committed change is always announced, a rolled-back one never.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    user_id TEXT,
    agent_id TEXT,
    events JSONB NOT NULL,
    description TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    lease_until TIMESTAMPTZ
);

CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    event TEXT NOT NULL,
    memory_id TEXT,
    user_id TEXT,
    agent_id TEXT,
    session_id TEXT,
    memory_type TEXT,
    content TEXT,
    previous_content TEXT,
    metadata JSONB,
    data JSONB,
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TIMESTAMPTZ,
    response_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX ix_webhook_deliveries_pending ON webhook_deliveries (webhook_id, status, seq);
CREATE INDEX ix_webhook_deliveries_memory ON webhook_deliveries (memory_id);

CREATE FUNCTION webhook_memory_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind TEXT;
    m memories%ROWTYPE;
    previous TEXT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'memory.created';
        m := NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.content IS NOT DISTINCT FROM OLD.content AND NEW.metadata IS NOT DISTINCT FROM OLD.metadata
           AND NEW.type IS NOT DISTINCT FROM OLD.type AND NEW.expires_at IS NOT DISTINCT FROM OLD.expires_at THEN
            RETURN NULL;
        END IF;
        kind := 'memory.updated';
        m := NEW;
        previous := OLD.content;
    ELSE
        kind := 'memory.deleted';
        m := OLD;
    END IF;
    INSERT INTO webhook_deliveries (webhook_id, event, memory_id, user_id, agent_id, session_id, memory_type, content,
                                    previous_content, metadata)
    SELECT w.id, kind, m.id, m.user_id, m.agent_id, m.session_id, m.type, m.content, previous, m.metadata
    FROM webhooks w
    WHERE w.enabled AND (w.user_id IS NULL OR w.user_id = m.user_id)
      AND (w.agent_id IS NULL OR w.agent_id = m.agent_id) AND w.events ? kind;
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_memory_change AFTER INSERT OR UPDATE OR DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION webhook_memory_change();

-- GDPR erasure scrubs a memory's contents from its history: deliveries not yet made lose them too.
CREATE FUNCTION webhook_memory_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE webhook_deliveries SET content = NULL, previous_content = NULL, metadata = NULL
    WHERE memory_id = NEW.memory_id AND status = 'pending';
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_memory_erased AFTER UPDATE OF old_content, new_content ON memory_history
    FOR EACH ROW WHEN (NEW.old_content IS NULL AND NEW.new_content IS NULL)
    EXECUTE FUNCTION webhook_memory_erased();
