"""The filter language means the same thing in every record store: random filters over random memories, each
store's answer compared with a plain evaluation of the filter in Python."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mem0_service.core.filters import (
    All,
    Compare,
    Either,
    Filter,
    MetadataEquals,
    MetadataText,
    Not,
    Overlaps,
    all_of,
)
from mem0_service.core.memory import Memory, MemoryType, new_memory_id
from mem0_service.stores.base import RecordStore
from mem0_service.stores.postgres import PostgresRecordStore
from mem0_service.stores.sqlite import SQLiteRecordStore
from tests.support.postgres import fresh_database

BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)
MOMENTS = [BASE + timedelta(hours=h) for h in (0, 1, 5, 24, 25, 200)]
NAMES = ["a", "b", "c"]
KEYS = ["k", "app_id", "categories", 'q"uote', "n"]
WORDS = ["apple", "Apple", "PEAR", "pear tree", "Éclair", "éclair", "kiwi"]
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.5, 2.0]),
                        st.sampled_from(NAMES), st.lists(st.sampled_from(NAMES), max_size=3))


# -- the reference: what a filter means, evaluated on one memory ----------------------------------------------


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def subject(memory: Memory, field: str | MetadataText) -> Any:
    if isinstance(field, MetadataText):
        value = memory.metadata.get(field.key)
        return value if isinstance(value, str) else None
    if field == "type":
        return memory.type.value
    return getattr(memory, field)


def matches(flt: Filter, memory: Memory) -> bool:
    if isinstance(flt, All):
        return all(matches(p, memory) for p in flt.parts)
    if isinstance(flt, Either):
        return any(matches(p, memory) for p in flt.parts)
    if isinstance(flt, Not):
        return not matches(flt.part, memory)
    if isinstance(flt, MetadataEquals):
        if flt.value is None:
            return memory.metadata.get(flt.key) is None
        return flt.key in memory.metadata and json_equal(memory.metadata[flt.key], flt.value)
    if isinstance(flt, Overlaps):
        held = memory.metadata.get(flt.key)
        texts = [held] if isinstance(held, str) else [v for v in held if isinstance(v, str)] \
            if isinstance(held, list) else []
        return bool(flt.values & set(texts))
    value, want = subject(memory, flt.field), flt.value
    return {
        "eq": lambda: value == want, "ne": lambda: value != want,
        "in": lambda: value in want, "nin": lambda: value not in want,
        "gt": lambda: value > want, "gte": lambda: value >= want, "lt": lambda: value < want,
        "lte": lambda: value <= want,
        "contains": lambda: value is not None and want in value,
        "icontains": lambda: value is not None and want.casefold() in value.casefold(),
        "present": lambda: value is not None, "absent": lambda: value is None,
    }[flt.op]()


# -- random memories and filters ---------------------------------------------------------------------------------


@st.composite
def memories(draw) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(1, 10))):
        created = draw(st.sampled_from(MOMENTS))
        rows.append({
            "user": draw(st.sampled_from(NAMES)), "agent": draw(st.one_of(st.none(), st.sampled_from(NAMES))),
            "session": draw(st.one_of(st.none(), st.sampled_from(NAMES))),
            "type": draw(st.sampled_from(list(MemoryType))), "content": draw(st.sampled_from(WORDS)),
            "created": created, "updated": created + timedelta(hours=draw(st.sampled_from([0, 1, 30]))),
            "metadata": draw(st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=3))})
    return rows


TEXT_FIELDS = st.sampled_from(["user_id", "agent_id", "session_id", "content", "type"])
TEXT_VALUES = st.one_of(st.sampled_from(NAMES), st.sampled_from(WORDS), st.sampled_from([t.value for t in MemoryType]))
SUBJECTS = st.one_of(TEXT_FIELDS, st.sampled_from(KEYS).map(MetadataText))

leaves = st.one_of(
    st.builds(lambda f, v: Compare(f, "eq", v), SUBJECTS, TEXT_VALUES),
    st.builds(lambda f, v: Compare(f, "ne", v), SUBJECTS, TEXT_VALUES),
    st.builds(lambda f, v: Compare(f, "in", tuple(v)), SUBJECTS,
              st.lists(st.one_of(st.none(), TEXT_VALUES), max_size=3)),
    st.builds(lambda f, v: Compare(f, "nin", tuple(v)), SUBJECTS,
              st.lists(st.one_of(st.none(), TEXT_VALUES), max_size=3)),
    st.builds(lambda f, v: Compare(f, "contains", v), SUBJECTS, st.sampled_from(["a", "pp", "ple", "é", "E"])),
    st.builds(lambda f, v: Compare(f, "icontains", v), SUBJECTS, st.sampled_from(["a", "PP", "éCL", "tree", "É"])),
    st.builds(lambda f, op: Compare(f, op), SUBJECTS, st.sampled_from(["present", "absent"])),
    st.builds(lambda f, op, v: Compare(f, op, v), st.sampled_from(["created_at", "updated_at"]),
              st.sampled_from(["gt", "gte", "lt", "lte", "eq", "ne"]), st.sampled_from(MOMENTS)),
    st.builds(MetadataEquals, st.sampled_from(KEYS), JSON_VALUES),
    st.builds(Overlaps, st.sampled_from(KEYS), st.frozensets(st.sampled_from(NAMES), max_size=2)),
)
filters = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda parts: All(tuple(parts))),
    st.lists(inner, max_size=3).map(lambda parts: Either(tuple(parts))),
    inner.map(Not)), max_leaves=8)


# -- the stores under test ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def stores(loop, tmp_path_factory) -> Iterator[list[RecordStore]]:
    with fresh_database() as url:
        opened: list[RecordStore] = [SQLiteRecordStore(Path(tmp_path_factory.mktemp("filters")) / "records.db"),
                                     PostgresRecordStore(url)]
        for store in opened:
            loop.run_until_complete(store.open())
        yield opened
        for store in opened:
            loop.run_until_complete(store.close())


def stored(rows: list[dict[str, Any]], tenant: str) -> list[Memory]:
    """The rows as memories of this example alone: ids named after the tenant so no two examples meet."""
    def own(name: str | None) -> str | None:
        return None if name is None else f"{tenant}{name}"
    return [Memory(id=new_memory_id(), user_id=own(r["user"]) or "", agent_id=own(r["agent"]),
                   session_id=own(r["session"]), type=r["type"], content=r["content"], created_at=r["created"],
                   updated_at=r["updated"], metadata=r["metadata"]) for r in rows]


def owned(flt: Filter, tenant: str) -> Filter:
    """The filter with its entity names in this example's namespace (as `stored` writes them)."""
    if isinstance(flt, (All, Either)):
        return type(flt)(tuple(owned(p, tenant) for p in flt.parts))
    if isinstance(flt, Not):
        return Not(owned(flt.part, tenant))
    if isinstance(flt, Compare) and flt.field in ("user_id", "agent_id", "session_id"):
        rename = lambda v: f"{tenant}{v}" if isinstance(v, str) else v  # noqa: E731
        value = tuple(rename(v) for v in flt.value) if isinstance(flt.value, tuple) else rename(flt.value)
        return Compare(flt.field, flt.op, value)
    return flt


@pytest.mark.postgres
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=memories(), flt=filters)
def test_every_store_answers_a_filter_as_its_reference_evaluation(loop, stores, rows, flt):
    tenant = secrets.token_hex(4) + "-"
    saved = stored(rows, tenant)
    where = all_of([Compare("user_id", "in", tuple(f"{tenant}{n}" for n in NAMES)), owned(flt, tenant)])
    expected = sorted((m.id for m in saved if matches(where, m)), reverse=False)
    for store in stores:
        loop.run_until_complete(store.insert(saved, deduplicate=False))
        found, total = loop.run_until_complete(store.select(where, limit=None))
        assert sorted(m.id for m in found) == expected, (store.name, where)
        assert total == len(expected), store.name
        # newest first, and a page is the matching slice of that order
        assert [m.id for m in found] == [m.id for m in sorted(found, key=lambda m: (m.created_at, m.id),
                                                             reverse=True)]
        page, _ = loop.run_until_complete(store.select(where, limit=2, offset=1))
        assert [m.id for m in page] == [m.id for m in found][1:3], store.name
