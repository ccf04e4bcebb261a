"""Webhooks: who is told about which memory changes, a durable delivery outbox, signed deliveries."""
