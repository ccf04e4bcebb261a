"""Prometheus metrics in the text exposition format, kept in process memory (one registry per application)."""

from __future__ import annotations

import functools
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mem0_service import timing
from mem0_service.errors import ServiceUnavailable

# Seconds: from a cached key check to a slow embedding provider.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Iterable[tuple[str, str]] = ()) -> str:
    pairs = [*labels, *extra]
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.total = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break

    def lines(self, name: str, labels: Labels) -> list[str]:
        out, running = [], 0
        for bound, count in zip(BUCKETS, self.counts):
            running += count
            out.append(f"{name}_bucket{_labels(labels, [('le', _number(bound))])} {running}")
        out.append(f"{name}_bucket{_labels(labels, [('le', '+Inf')])} {self.total}")
        out.append(f"{name}_sum{_labels(labels)} {self.sum:.6f}")
        out.append(f"{name}_count{_labels(labels)} {self.total}")
        return out


class Metrics:
    """Counters and histograms by name and label set; gauges are computed at scrape time by the caller."""

    def __init__(self) -> None:
        self.help: dict[str, tuple[str, str]] = {}
        self.counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self.histograms: dict[str, dict[Labels, Histogram]] = defaultdict(dict)
        self.started = time.time()

    def describe(self, name: str, kind: str, text: str) -> None:
        self.help[name] = (kind, text)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        series = self.counters[name]
        series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        series = self.histograms[name]
        if key not in series:
            series[key] = Histogram()
        series[key].observe(seconds)

    def render(self, gauges: dict[str, tuple[str, list[tuple[dict[str, str], float]]]]) -> str:
        """Text format 0.0.4. `gauges`: name -> (help, [(labels, value)])."""
        lines: list[str] = []
        for name, series in sorted(self.counters.items()):
            _, text = self.help.get(name, ("counter", name))
            lines += [f"# HELP {name} {text}", f"# TYPE {name} counter"]
            lines += [f"{name}{_labels(k)} {_number(v)}" for k, v in sorted(series.items())]
        for name, hseries in sorted(self.histograms.items()):
            _, text = self.help.get(name, ("histogram", name))
            lines += [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
            for key, histogram in sorted(hseries.items()):
                lines += histogram.lines(name, key)
        for name, (text, values) in sorted(gauges.items()):
            lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
            lines += [f"{name}{_labels(tuple(sorted(labels.items())))} {_number(value)}" for labels, value in values]
        return "\n".join(lines) + "\n"


def new_registry() -> Metrics:
    metrics = Metrics()
    metrics.describe("mem0_http_requests_total", "counter", "HTTP requests by method, route template and status")
    metrics.describe("mem0_http_request_duration_seconds", "histogram", "HTTP request latency by method and route")
    metrics.describe("mem0_dependency_duration_seconds", "histogram",
                     "Time spent in the embedder, vector index and record store, by operation")
    metrics.describe("mem0_dependency_errors_total", "counter", "Dependency calls that failed, by dependency")
    metrics.describe("mem0_rate_limited_total", "counter", "Requests refused with 429, by key id")
    metrics.describe("mem0_auth_failures_total", "counter", "Requests refused with 401")
    return metrics


class Timed:
    """Wraps an embedder, vector index or record store so that every call of the named methods is timed;
    everything else passes straight through to the wrapped object."""

    def __init__(self, target: Any, dependency: str, methods: Iterable[str], metrics: Metrics):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_dependency", dependency)
        object.__setattr__(self, "_metrics", metrics)
        for method in methods:
            object.__setattr__(self, method, self._wrap(method, getattr(target, method)))

    def _wrap(self, operation: str, fn):
        metrics, dependency = self._metrics, self._dependency

        @functools.wraps(fn)
        async def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            except ServiceUnavailable:
                metrics.inc("mem0_dependency_errors_total", dependency=dependency)
                raise
            finally:
                spent = time.perf_counter() - started
                metrics.observe("mem0_dependency_duration_seconds", spent, dependency=dependency, operation=operation)
                timing.add(dependency, spent)
        return timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    @property
    def unwrapped(self) -> Any:
        return self._target


EMBEDDER_METHODS = ("embed", "embed_one")
INDEX_METHODS = ("upsert", "delete", "search", "similarity", "refresh")
STORE_METHODS = ("insert", "load_many", "first_in_scope", "update", "update_fields", "delete", "delete_scope", "list",
                 "select",
                 "keyword_search", "find_by_hash", "reserve_idempotent")


def instrument(service: Any, metrics: Metrics) -> None:
    """Time the dependencies of a running MemoryService from the outside (the core stays unaware of metrics)."""
    embedder = Timed(service.embedder, "embedder", EMBEDDER_METHODS, metrics)
    index = Timed(service.index, "vector_index", INDEX_METHODS, metrics)
    store = Timed(service.store, "record_store", STORE_METHODS, metrics)
    service.embedder = service.indexer.embedder = embedder
    service.index = service.indexer.index = index
    service.store = service.indexer.store = store
