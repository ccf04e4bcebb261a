-- Erasure reaches every copy of a user's content.
--
-- An Idempotency-Key's stored answer holds the memories its request created: each answer now names the memories
-- (and their owners) it holds, so that erasing them drops it. Answers stored before this version name nobody and
-- cannot be traced to their owners: they are dropped (a retry of such a request does the work again, and an exact
-- duplicate answers with the memory already stored). Reservations of requests still running stay.
CREATE TABLE idempotency_owners (
    key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    agent_id TEXT NOT NULL DEFAULT '',
    memory_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (key, user_id, agent_id, memory_id)
);
CREATE INDEX ix_idempotency_owners_user ON idempotency_owners (user_id, agent_id);
CREATE INDEX ix_idempotency_owners_memory ON idempotency_owners (memory_id);
DELETE FROM idempotency_keys WHERE status <> 0;

-- An erased memory's contents leave the delivery log too, delivered or failed, not only the deliveries not made yet.
DROP TRIGGER webhook_memory_erased;
CREATE TRIGGER webhook_memory_erased AFTER UPDATE OF old_content, new_content ON memory_history
WHEN NEW.old_content IS NULL AND NEW.new_content IS NULL BEGIN
    UPDATE webhook_deliveries SET content = NULL, previous_content = NULL, metadata = NULL
    WHERE memory_id = NEW.memory_id AND (content IS NOT NULL OR previous_content IS NOT NULL OR metadata IS NOT NULL);
END;
CREATE INDEX ix_webhook_deliveries_owner ON webhook_deliveries (user_id, agent_id);
