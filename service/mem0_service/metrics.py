"""Prometheus metrics in the text exposition format, kept in process memory (one registry per application)."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable

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
