"""``Mem0Store``: a LangGraph ``BaseStore`` that keeps its items as memories of the service.

Each item is one memory. Its namespace says whose memory it is: by default the first part of
the namespace is the ``user_id``, the second the ``agent_id`` and the third the ``session_id``;
``namespace_layout`` changes that. The memory's content is the item's text (what semantic search
reads) and its metadata holds the namespace, the key and the whole value, so ``get`` and ``put``
find an item by key and the value comes back exactly as it was stored.

Every operation is written once as a plan: a generator that yields the HTTP calls it needs
(``_api.Call``) and receives their answers. ``batch`` sends them with the sync client,
``abatch`` with the async one.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

try:
    from langgraph.store.base import (
        BaseStore,
        GetOp,
        InvalidNamespaceError,
        Item,
        ListNamespacesOp,
        MatchCondition,
        Op,
        PutOp,
        Result,
        SearchItem,
        SearchOp,
    )
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "Mem0Store implements LangGraph's BaseStore: install it with "
        "`pip install 'mem0-langchain[langgraph]'` (or `pip install langgraph`)."
    ) from exc

from . import _api
from ._api import MAX_QUERY_CHARS, Timeout
from ._connection import make_async_client, make_client, normalize_kwargs, split_connection
from .async_client import AsyncMem0Client
from .client import Mem0Client
from .models import Memory, MemoryType

T = TypeVar("T")
Plan = Generator[_api.Call[Any], Any, T]

SOURCE = "langgraph-store"
"""``metadata.source`` of the memories this store writes."""
NAMESPACE_FIELD = "langgraph_namespace"
KEY_FIELD = "langgraph_key"
VALUE_FIELD = "langgraph_value"
SCOPE_FIELDS = ("user_id", "agent_id", "session_id")
DEFAULT_LAYOUT = ("user_id", "agent_id", "session_id")
SEARCH_CANDIDATES = 100
"""The most memories one search of the service returns; filters apply to these."""
PAGE = 1000


class Mem0Store(BaseStore):
    """LangGraph long-term memory (``BaseStore``) kept in a Mem0 service.

    Namespaces map to the service's scopes through ``namespace_layout`` (default
    ``("user_id", "agent_id", "session_id")``): ``("alice",)`` is user ``alice``;
    ``("alice", "support-bot")`` is her memories of agent ``support-bot``; a third part is the
    session. Name other positions anything else to keep them as plain labels: with
    ``namespace_layout=("app", "user_id")``, LangMem's usual ``("memories", "{user_id}")`` is
    user ``{user_id}`` and ``"memories"`` a label. The user's position must be present in
    every namespace an item is written to; those parts must be identifiers the service
    accepts (letters, digits and ``_ . @ : + -``).

    * ``put`` / ``get`` / ``delete`` find an item by namespace and key. The item's text (the
      ``index`` fields, else the value's ``content`` or ``text``, else the whole value as JSON)
      becomes the memory's content, which the service embeds for search.
    * ``search(prefix, query=..., filter=...)`` ranks by the service's semantic search (up to 100
      candidates per user), then keeps items under ``prefix`` whose value matches ``filter``
      (plain equality, nested dicts, or ``$eq $ne $gt $gte $lt $lte $in $nin``). Without a
      query, the newest items come first.
    * ``list_namespaces`` reads the namespaces of the stored items; when the prefix does not
      name the user, it walks every user through ``GET /api/users``, which needs an admin key.

    Values are kept as JSON in the memory's metadata, which the service limits to 16 KiB.

    Example:
        .. code-block:: python

            from mem0_langchain import Mem0Store

            store = Mem0Store(base_url="http://localhost:3456", api_key="secret")
            store.put(("alice",), "food", {"content": "Alice is vegetarian"})
            store.get(("alice",), "food").value  # {'content': 'Alice is vegetarian'}
            store.search(("alice",), query="what does she eat?")[0].key  # 'food'
    """

    def __init__(
        self,
        *,
        client: Mem0Client | None = None,
        async_client: AsyncMem0Client | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: Timeout | None = None,
        namespace_layout: Sequence[str] = DEFAULT_LAYOUT,
        memory_type: MemoryType = "fact",
        index_fields: Sequence[str] | None = None,
        relevance_threshold: float = 0.0,
        **camel_case: Any,
    ) -> None:
        given = normalize_kwargs(
            type(self).__name__,
            {
                **{
                    name: value
                    for name, value in (
                        ("base_url", base_url),
                        ("api_key", api_key),
                        ("timeout", timeout),
                    )
                    if value is not None
                },
                **camel_case,
            },
            (),
        )
        connection = split_connection(type(self).__name__, {**given, "client": client})
        self.client = client if client is not None else make_client(**connection)
        self.async_client = async_client or make_async_client(
            self.client.base_url, self.client.api_key, self.client.timeout
        )
        self.layout = _layout(namespace_layout)
        self.memory_type: MemoryType = memory_type
        self.index_fields = list(index_fields) if index_fields is not None else None
        self.relevance_threshold = relevance_threshold

    # -- BaseStore ------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order with the sync client."""
        return [self._send(self._plan(op)) for op in ops]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order with the async client."""
        return [await self._asend(self._plan(op)) for op in ops]

    def close(self) -> None:
        """Close the sync client (the async one closes with :meth:`aclose`)."""
        self.client.close()

    async def aclose(self) -> None:
        """Close the async client."""
        await self.async_client.aclose()

    # -- sending plans ---------------------------------------------------------------------

    def _send(self, plan: Plan[T]) -> T:
        try:
            call = next(plan)
            while True:
                call = plan.send(self.client._call(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _asend(self, plan: Plan[T]) -> T:
        try:
            call = next(plan)
            while True:
                call = plan.send(await self.async_client._call(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _plan(self, op: Op) -> Plan[Result]:
        if isinstance(op, GetOp):
            return self._get(op)
        if isinstance(op, PutOp):
            return self._put(op)
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise TypeError(f"Mem0Store cannot run {type(op).__name__}")

    # -- operations --------------------------------------------------------------------------

    def _get(self, op: GetOp) -> Plan[Item | None]:
        memory = yield from self._find(op.namespace, op.key)
        return _item(memory) if memory is not None else None

    def _put(self, op: PutOp) -> Plan[None]:
        existing = yield from self._find(op.namespace, op.key)
        if op.value is None:
            if existing is not None:
                yield _api.delete(existing.id, False)
            return None
        value = dict(op.value)
        content = self._text(value, op.index)
        metadata = {
            "source": SOURCE,
            NAMESPACE_FIELD: _namespace_text(op.namespace),
            KEY_FIELD: op.key,
            VALUE_FIELD: json.dumps(value, ensure_ascii=False, default=str),
        }
        if existing is not None:
            yield _api.update(existing.id, content, metadata, None, None, None)
            return None
        scope = self._scope(op.namespace)
        stored: Memory = yield self._add(content, scope, metadata, self.memory_type)
        if stored.metadata.get(KEY_FIELD) != op.key or stored.metadata.get(
            NAMESPACE_FIELD
        ) != _namespace_text(op.namespace):
            # The service answered with a memory of the same text that was already there (it
            # merges exact duplicates of every type but interactions): keep this item apart.
            yield self._add(content, scope, metadata, "interaction")
        return None

    def _search(self, op: SearchOp) -> Plan[list[SearchItem]]:
        found: list[tuple[float | None, Memory]] = []
        users: list[str] = yield from self._users(op.namespace_prefix)
        scope = self._partial_scope(op.namespace_prefix)
        for user_id in users:
            if op.query:
                result = yield _api.search(
                    op.query[:MAX_QUERY_CHARS],
                    user_id,
                    self.relevance_threshold,
                    SEARCH_CANDIDATES,
                    None,
                    scope.get("session_id"),
                    scope.get("agent_id"),
                )
                candidates = [(m.relevance_score, m) for m in result.memories]
            else:
                stored = yield from self._stored(user_id, op.namespace_prefix)
                candidates = [(None, m) for m in stored]
            found.extend(
                (score, memory)
                for score, memory in candidates
                if _is_item(memory)
                and _namespace_of(memory)[: len(op.namespace_prefix)] == op.namespace_prefix
                and matches(_value_of(memory), op.filter or {})
            )
        if op.query:
            found.sort(key=lambda hit: hit[0] or 0.0, reverse=True)
        else:
            found.sort(key=lambda hit: _updated(hit[1]), reverse=True)
        page = found[op.offset : op.offset + op.limit]
        return [_search_item(memory, score) for score, memory in page]

    def _list_namespaces(self, op: ListNamespacesOp) -> Plan[list[tuple[str, ...]]]:
        conditions = op.match_conditions or ()
        literal = _literal_prefix(conditions)
        users: list[str] = yield from self._users(literal)
        namespaces: set[tuple[str, ...]] = set()
        for user_id in users:
            stored = yield from self._stored(user_id, literal)
            for memory in stored:
                namespace = _namespace_of(memory)
                if all(_meets(namespace, condition) for condition in conditions):
                    cut = namespace[: op.max_depth] if op.max_depth is not None else namespace
                    namespaces.add(cut)
        return sorted(namespaces)[op.offset : op.offset + op.limit]

    # -- building blocks -------------------------------------------------------------------

    def _find(self, namespace: tuple[str, ...], key: str) -> Plan[Memory | None]:
        scope = self._scope(namespace)
        page = yield _api.get_all(
            scope["user_id"],
            None,
            scope.get("session_id"),
            scope.get("agent_id"),
            1,
            0,
            None,
            None,
            None,
            {NAMESPACE_FIELD: _namespace_text(namespace), KEY_FIELD: key},
            None,
        )
        return page.memories[0] if page.memories else None

    def _stored(self, user_id: str, prefix: tuple[str, ...]) -> Plan[list[Memory]]:
        """Every item of the user under the namespace prefix, newest first."""
        scope = self._partial_scope(prefix)
        metadata = {"source": SOURCE}
        memories: list[Memory] = []
        while True:
            page = yield _api.get_all(
                user_id,
                None,
                scope.get("session_id"),
                scope.get("agent_id"),
                PAGE,
                len(memories),
                None,
                None,
                None,
                metadata,
                None,
            )
            memories.extend(page.memories)
            if not page.memories or len(memories) >= page.total:
                break
        return [m for m in memories if _is_item(m) and _namespace_of(m)[: len(prefix)] == prefix]

    def _users(self, prefix: tuple[str, ...]) -> Plan[list[str]]:
        """The users a namespace prefix can reach: the one it names, or every user."""
        position = self.layout.index("user_id")
        if position < len(prefix):
            return [prefix[position]]
        users: list[str] = []
        while True:
            page = yield _api.list_users(None, PAGE, len(users))
            users.extend(user.user_id for user in page.users)
            if not page.users or len(users) >= page.total:
                return users

    def _add(
        self, content: str, scope: dict[str, str], metadata: dict[str, Any], type: MemoryType
    ) -> _api.Call[Memory]:
        return _api.add(
            content,
            scope["user_id"],
            type,
            scope.get("session_id"),
            scope.get("agent_id"),
            metadata,
            None,
            None,
        )

    def _scope(self, namespace: tuple[str, ...]) -> dict[str, str]:
        """The service scope of a whole namespace."""
        if not namespace or self.layout.index("user_id") >= len(namespace):
            raise InvalidNamespaceError(
                f"namespace {namespace!r} has no user id: with namespace_layout "
                f"{self.layout!r} its part {self.layout.index('user_id') + 1} names the user"
            )
        return self._partial_scope(namespace)

    def _partial_scope(self, prefix: tuple[str, ...]) -> dict[str, str]:
        return {
            field: prefix[position]
            for position, field in enumerate(self.layout)
            if field in SCOPE_FIELDS and position < len(prefix)
        }

    def _text(self, value: Mapping[str, Any], index: Any) -> str:
        """What the service embeds for the item: the indexed fields, else its main text."""
        fields = index if isinstance(index, list) else self.index_fields
        if fields:
            parts = [_text_of(_path(value, field)) for field in fields]
            text = "\n".join(part for part in parts if part)
            if text.strip():
                return text
        for field in ("content", "text"):
            if isinstance(value.get(field), str) and value[field].strip():
                return str(value[field])
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# -- values and filters ----------------------------------------------------------------------


_MISSING = object()


def matches(value: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    """Whether a stored value passes a LangGraph search filter (a missing field equals None,
    as in LangGraph's own stores)."""
    for field, condition in filter.items():
        actual = _path(value, field)
        if (
            isinstance(condition, Mapping)
            and condition
            and all(k.startswith("$") for k in condition)
        ):
            if not all(_compare(op, actual, operand) for op, operand in condition.items()):
                return False
        elif isinstance(condition, Mapping):
            if not isinstance(actual, Mapping) or not matches(actual, condition):
                return False
        elif (None if actual is _MISSING else actual) != condition:
            return False
    return True


def _compare(op: str, actual: Any, operand: Any) -> bool:
    if op == "$eq":
        return bool((None if actual is _MISSING else actual) == operand)
    if op == "$ne":
        return bool((None if actual is _MISSING else actual) != operand)
    if op == "$in":
        return actual is not _MISSING and actual in operand
    if op == "$nin":
        return actual is _MISSING or actual not in operand
    if actual is _MISSING or actual is None:
        return False
    try:
        if op == "$gt":
            return bool(actual > operand)
        if op == "$gte":
            return bool(actual >= operand)
        if op == "$lt":
            return bool(actual < operand)
        if op == "$lte":
            return bool(actual <= operand)
    except TypeError:
        return False
    raise ValueError(f"unsupported filter operator {op!r}")


def _path(value: Any, field: str) -> Any:
    """``value["a"]["b"]`` for ``"a.b"`` (a key that itself holds a dot wins)."""
    if isinstance(value, Mapping) and field in value:
        return value[field]
    current = value
    for part in field.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _text_of(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# -- memories as items -------------------------------------------------------------------------


def _layout(parts: Sequence[str]) -> tuple[str, ...]:
    layout = tuple(parts)
    if layout.count("user_id") != 1:
        raise ValueError(f"namespace_layout {layout!r} must name the user_id position exactly once")
    for field in ("agent_id", "session_id"):
        if layout.count(field) > 1:
            raise ValueError(f"namespace_layout {layout!r} names {field} more than once")
    return layout


def _namespace_text(namespace: tuple[str, ...]) -> str:
    return json.dumps(list(namespace), ensure_ascii=False)


def _is_item(memory: Memory) -> bool:
    return isinstance(memory.metadata.get(KEY_FIELD), str) and isinstance(
        memory.metadata.get(NAMESPACE_FIELD), str
    )


def _namespace_of(memory: Memory) -> tuple[str, ...]:
    return tuple(json.loads(memory.metadata[NAMESPACE_FIELD]))


def _value_of(memory: Memory) -> dict[str, Any]:
    raw = memory.metadata.get(VALUE_FIELD)
    if isinstance(raw, str):
        value = json.loads(raw)
        if isinstance(value, dict):
            return value
    return {"content": memory.content}


_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def _updated(memory: Memory) -> datetime:
    return memory.updated_at or memory.created_at or _EPOCH


def _item(memory: Memory) -> Item:
    return Item(
        value=_value_of(memory),
        key=memory.metadata[KEY_FIELD],
        namespace=_namespace_of(memory),
        created_at=memory.created_at or _EPOCH,
        updated_at=_updated(memory),
    )


def _search_item(memory: Memory, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=_namespace_of(memory),
        key=memory.metadata[KEY_FIELD],
        value=_value_of(memory),
        created_at=memory.created_at or _EPOCH,
        updated_at=_updated(memory),
        score=score,
    )


def _literal_prefix(conditions: Sequence[MatchCondition]) -> tuple[str, ...]:
    """The leading namespace parts every match must have (up to the first wildcard)."""
    for condition in conditions:
        if condition.match_type == "prefix":
            literal: list[str] = []
            for part in condition.path:
                if part == "*":
                    break
                literal.append(part)
            return tuple(literal)
    return ()


def _meets(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    path = tuple(condition.path)
    if len(path) > len(namespace):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    if not path:
        return True
    return all(want in ("*", have) for want, have in zip(path, part, strict=True))
