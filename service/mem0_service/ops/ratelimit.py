"""Per-key token buckets: a steady rate per minute with a burst allowance, answered with 429 + Retry-After."""

from __future__ import annotations

import math
import time


class RateLimiter:
    def __init__(self, per_minute: float, burst: float):
        self.rate = per_minute / 60.0  # tokens per second
        self.capacity = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, key: str, now: float | None = None) -> float:
        """0 when the request may proceed, otherwise the seconds to wait before the next one would pass."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
