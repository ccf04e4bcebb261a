-- A search reads a conversation turn with the turns stored just before and after it in the same conversation (same
-- user, session and agent; by creation time, then id, which sorts in creation order within a batch): two probes of
-- this index per turn.
CREATE INDEX ix_memories_turns ON memories (user_id, coalesce(session_id, ''), coalesce(agent_id, ''), created_at, id)
    WHERE type = 'interaction';
