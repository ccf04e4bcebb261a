"""The one filter language over memories: what every record store compiles to its own SQL.

A filter is a tree of `All` / `Either` / `Not` over leaves:
- `Compare(field, op, value)`: a column (user_id, agent_id, session_id, type, content, created_at, updated_at) or
  the text held under a metadata key (`MetadataText`), compared with eq/ne/in/nin, the ranges gt/gte/lt/lte (dates),
  contains/icontains (substring, the latter ignoring case) or present/absent (the `*` of the platform filters);
- `MetadataEquals(key, value)`: a metadata value equal, as JSON, to the given one (null: missing or null);
- `Overlaps(key, values)`: a metadata value that is one of the texts, or a list holding one of them (categories).

Absent values never match a comparison with a value (`ne` and `nin` excepted: a missing agent is not "x"), so
`Not` is exact negation. Stores add liveness (expiry) themselves; scopes and access become filters through
`scope_filter`. Metadata keys reaching here were checked at the boundary (api/values.py `check_filter_key`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mem0_service.core.memory import Scope

Column = Literal["user_id", "agent_id", "session_id", "type", "content", "created_at", "updated_at"]
COLUMNS: tuple[str, ...] = ("user_id", "agent_id", "session_id", "type", "content", "created_at", "updated_at")
NULLABLE = frozenset({"agent_id", "session_id"})
TIMES = frozenset({"created_at", "updated_at"})
Op = Literal["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains", "icontains", "present", "absent"]
RANGES = frozenset({"gt", "gte", "lt", "lte"})
TEXT_OPS = frozenset({"contains", "icontains"})


@dataclass(frozen=True)
class MetadataText:
    """The text stored under a metadata key; absent when the key is missing or holds something else."""

    key: str


@dataclass(frozen=True)
class Compare:
    field: str | MetadataText
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.field, str) and self.field not in COLUMNS:
            raise ValueError(f"unknown filter field {self.field!r}")
        if self.op in RANGES and self.field not in TIMES:
            raise ValueError(f"{self.op} applies to created_at and updated_at only")
        if self.op in RANGES and not isinstance(self.value, datetime):
            raise ValueError(f"{self.op} needs a datetime")
        if self.field in TIMES and self.op in ("eq", "ne") and not isinstance(self.value, datetime):
            raise ValueError(f"{self.field} compares with a datetime")
        if self.op in ("in", "nin") and not isinstance(self.value, tuple):
            raise ValueError(f"{self.op} needs a tuple of values")
        if self.op in TEXT_OPS and self.field in TIMES:
            raise ValueError(f"{self.op} applies to text")
        if self.op in TEXT_OPS and not isinstance(self.value, str):
            raise ValueError(f"{self.op} needs text")
        if self.op not in (*RANGES, *TEXT_OPS, "eq", "ne", "in", "nin", "present", "absent"):
            raise ValueError(f"unknown filter operator {self.op!r}")


@dataclass(frozen=True)
class MetadataEquals:
    key: str
    value: Any


@dataclass(frozen=True)
class Overlaps:
    key: str
    values: frozenset[str]


@dataclass(frozen=True)
class All:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Either:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


Filter = Compare | MetadataEquals | Overlaps | All | Either | Not
EVERYTHING: Filter = All(())


def all_of(parts: Iterable[Filter]) -> Filter:
    flat: list[Filter] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, All) else (part,))
    return flat[0] if len(flat) == 1 else All(tuple(flat))


def any_of(parts: Iterable[Filter]) -> Filter:
    listed = tuple(parts)
    return listed[0] if len(listed) == 1 else Either(listed)


def scope_filter(scope: Scope) -> Filter:
    """A scope as a filter (liveness aside: the stores add it): how every store reads a scope."""
    parts: list[Filter] = [Compare("user_id", "eq", scope.user_id)]
    if scope.session_id is not None:
        parts.append(Compare("session_id", "eq", scope.session_id))
    if scope.agent_id is not None:
        parts.append(Compare("agent_id", "eq", scope.agent_id))
    if scope.types:
        parts.append(Compare("type", "in", tuple(t.value for t in scope.types)))
    if scope.created_before is not None:
        parts.append(Compare("created_at", "lt", scope.created_before))
    if scope.created_after is not None:
        parts.append(Compare("created_at", "gt", scope.created_after))
    if scope.updated_after is not None:
        parts.append(Compare("updated_at", "gt", scope.updated_after))
    parts.extend(MetadataEquals(key, value) for key, value in scope.metadata)
    return all_of(parts)


@dataclass(frozen=True)
class PayloadBounds:
    """What a filter fixes of the fields a vector index holds (session, agent, type): a search hands these to the
    index, so candidates are drawn among the memories that can pass. `empty`: no memory can pass."""

    session_id: str | None = None
    agent_id: str | None = None
    types: frozenset[str] | None = None
    empty: bool = False


def payload_bounds(flt: Filter) -> PayloadBounds:
    """The bounds implied by the filter's top-level conjunction; other parts are left to the record store."""
    values: dict[str, frozenset[str]] = {}
    for part in flt.parts if isinstance(flt, All) else (flt,):
        if not isinstance(part, Compare) or part.field not in ("session_id", "agent_id", "type"):
            continue
        if part.op == "eq" and isinstance(part.value, str):
            allowed = frozenset([part.value])
        elif part.op == "in" and all(isinstance(v, str) for v in part.value):
            allowed = frozenset(part.value)
        else:
            continue
        values[part.field] = values[part.field] & allowed if part.field in values else allowed
    if any(not allowed for allowed in values.values()):
        return PayloadBounds(empty=True)

    def single(field: str) -> str | None:
        allowed = values.get(field)
        return next(iter(allowed)) if allowed is not None and len(allowed) == 1 else None

    return PayloadBounds(session_id=single("session_id"), agent_id=single("agent_id"), types=values.get("type"))
