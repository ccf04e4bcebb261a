"""One dependency's stopwatch: every call into it becomes a histogram sample by operation, a failure count when
the dependency was unavailable, and its share of the request's Server-Timing."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

from mem0_service import timing
from mem0_service.errors import ServiceUnavailable
from mem0_service.metrics import Metrics

T = TypeVar("T")


class DependencyTimer:
    def __init__(self, metrics: Metrics, dependency: str):
        self.metrics, self.dependency = metrics, dependency

    async def __call__(self, operation: str, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await call
        except ServiceUnavailable:
            self.metrics.inc("mem0_dependency_errors_total", dependency=self.dependency)
            raise
        finally:
            spent = time.perf_counter() - started
            self.metrics.observe("mem0_dependency_duration_seconds", spent, dependency=self.dependency,
                                 operation=operation)
            timing.add(self.dependency, spent)
