-- Stored Idempotency-Key answers expire (MEM0_IDEMPOTENCY_TTL): the sweeper finds the old ones by age.
CREATE INDEX ix_idempotency_keys_created ON idempotency_keys (created_at);
