"""Per-key token buckets: a steady rate per minute with a burst allowance, answered with 429 + Retry-After.

One process keeps its buckets in a dict. Worker processes (MEM0_WORKERS > 1) share theirs through a small
memory-mapped file in the data directory, so a key gets the configured budget, not one budget per worker: the
kernel spreads connections over the workers, and a client with several connections would otherwise multiply
its limit."""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

# A bucket's state: (tokens left, when last touched, in time.monotonic() seconds); None for a full bucket.
State = tuple[float, float] | None
Step = Callable[[State], tuple[tuple[float, float], float]]


class MemoryBuckets:
    """Buckets of this process only."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}

    # More buckets than this and the full ones are dropped: budgets per client address have no natural bound.
    LIMIT = 1 << 16

    def update(self, key: str, step: Step, idle: Callable[[tuple[float, float]], bool]) -> float:
        state, result = step(self._state.get(key))
        if idle(state):  # a full bucket is the same as none
            self._state.pop(key, None)
            return result
        self._state[key] = state
        if len(self._state) > self.LIMIT:
            self._state = {k: v for k, v in self._state.items() if not idle(v)}
        return result


class FileBuckets:
    """Buckets in a file shared by the processes of one data directory.

    Fixed slots of (key fingerprint, tokens, last touched); a key lives in the first of PROBE slots from its hash
    that holds it, is free, or holds a bucket that has filled up again (which is the same as no bucket, so idle
    keys give their slot back and the file never grows). Each update locks only its PROBE slots (fcntl byte-range
    lock), so requests of different keys do not wait for each other."""

    SLOTS = 1 << 16
    PROBE = 8
    SLOT = struct.Struct("<Qdd")

    def __init__(self, path: Path):
        size = (self.SLOTS + self.PROBE) * self.SLOT.size
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < size:
            os.ftruncate(self._fd, size)  # zero-filled: every slot free
        self._map = mmap.mmap(self._fd, size)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    def update(self, key: str, step: Step, idle: Callable[[tuple[float, float]], bool]) -> float:
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        fingerprint = int.from_bytes(digest, "little") | 1  # never 0, which marks a free slot
        first = fingerprint % self.SLOTS
        start, length = first * self.SLOT.size, self.PROBE * self.SLOT.size
        fcntl.lockf(self._fd, fcntl.LOCK_EX, length, start)
        try:
            found, spare = None, None
            for offset in range(start, start + length, self.SLOT.size):
                owner, tokens, last = self.SLOT.unpack_from(self._map, offset)
                if owner == fingerprint:
                    found = offset
                    break
                if spare is None and (owner == 0 or idle((tokens, last))):
                    spare = offset
            current: tuple[float, float] | None
            if found is not None:
                offset, current = found, self.SLOT.unpack_from(self._map, found)[1:]
            elif spare is not None:
                offset, current = spare, None
            else:  # all PROBE slots busy with other active keys (practically never): share the last one's budget
                offset = start + length - self.SLOT.size
                current = self.SLOT.unpack_from(self._map, offset)[1:]
            (tokens, last), result = step(current)
            self.SLOT.pack_into(self._map, offset, fingerprint, tokens, last)
            return result
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, length, start)


class RateLimiter:
    def __init__(self, per_minute: float, burst: float, shared_file: Path | None = None):
        self.rate = per_minute / 60.0  # tokens per second
        self.capacity = burst
        self._buckets: MemoryBuckets | FileBuckets = (
            FileBuckets(shared_file) if shared_file is not None and self.enabled else MemoryBuckets())

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def close(self) -> None:
        if isinstance(self._buckets, FileBuckets):
            self._buckets.close()

    def acquire(self, key: str, now: float | None = None) -> float:
        """0 when the request may proceed, otherwise the seconds to wait before the next one would pass."""
        return self._update(key, now, spend=True)

    def wait(self, key: str, now: float | None = None) -> float:
        """What acquire would answer, without spending: 0 while the key has budget left."""
        return self._update(key, now, spend=False)

    def _update(self, key: str, now: float | None, *, spend: bool) -> float:
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now

        def step(state: State) -> tuple[tuple[float, float], float]:
            # a bucket stamped in the future was written before a reboot reset the monotonic clock: start afresh
            tokens, last = state if state is not None and state[1] <= now else (self.capacity, now)
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                return (tokens - 1.0 if spend else tokens, now), 0.0
            return (tokens, now), (1.0 - tokens) / self.rate

        def idle(state: tuple[float, float]) -> bool:
            tokens, last = state
            return last > now or tokens + (now - last) * self.rate >= self.capacity

        return self._buckets.update(key, step, idle)

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
