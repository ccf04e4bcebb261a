"""One dependency's stopwatch: every call into it becomes a histogram sample by operation, a failure count when
the dependency was unavailable, and its share of the request's Server-Timing."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from mem0_service import timing
from mem0_service.errors import ServiceUnavailable
from mem0_service.metrics import Metrics


class DependencyTimer:
    def __init__(self, metrics: Metrics, dependency: str):
        self.metrics, self.dependency = metrics, dependency

    @contextlib.contextmanager
    def __call__(self, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except ServiceUnavailable:
            self.metrics.inc("mem0_dependency_errors_total", dependency=self.dependency)
            raise
        finally:
            spent = time.perf_counter() - started
            self.metrics.observe("mem0_dependency_duration_seconds", spent, dependency=self.dependency,
                                 operation=operation)
            timing.add(self.dependency, spent)
