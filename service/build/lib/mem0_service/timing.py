"""Where a request's time went, per dependency, reported to the client as a `Server-Timing` header.

The header lets anyone (a browser's network panel, curl -i, the benchmark) separate the embedding model, the
vector index and the record store from the service's own work without a profiler. Dependency calls that run
concurrently each report their own duration, so the parts may add up to more than `total`."""

from __future__ import annotations

from contextvars import ContextVar

# One dict per request, set by the outermost middleware; tasks spawned by the request copy the context and so
# add to the same dict.
_SPENT: ContextVar[dict[str, float] | None] = ContextVar("request_time_spent", default=None)


def start_request() -> dict[str, float]:
    spent: dict[str, float] = {}
    _SPENT.set(spent)
    return spent


def add(dependency: str, seconds: float) -> None:
    spent = _SPENT.get()
    if spent is not None:
        spent[dependency] = spent.get(dependency, 0.0) + seconds


def server_timing(spent: dict[str, float], total_seconds: float) -> str:
    parts = [f"{name};dur={seconds * 1e3:.2f}" for name, seconds in spent.items()]
    return ", ".join([*parts, f"total;dur={total_seconds * 1e3:.2f}"])
