"""The platform's `filters` (AND/OR/NOT over entity ids, dates, categories, metadata, text) in the core filter
language: the record store compiles them to SQL, counts and pages in the database. Which users a filter may read
(its scopes) is derived from the positive entity constraints, and narrowed by the caller's key."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeGuard

from aiohttp import web

from mem0_service.api.platform.vocabulary import APP_ID, CATEGORIES, ENTITY_FIELDS, OWNER_PREFIXES
from mem0_service.api.platform_models import ListRequest
from mem0_service.api.values import MalformedJson, check_filter_key, check_timestamp, check_value, is_scalar, strict_json
from mem0_service.auth import principal
from mem0_service.core.filters import (
    EVERYTHING,
    TIMES,
    Compare,
    Either,
    Filter,
    MetadataEquals,
    MetadataText,
    Not,
    Overlaps,
    all_of,
    any_of,
    scope_filter,
)
from mem0_service.core.memory import Scope
from mem0_service.errors import BadRequest

_UTC = timezone.utc
MAX_SCOPES = 50
NOTHING: Filter = Either(())
_VIEW_FIELDS = {"user_id", "agent_id", "run_id", "app_id", "created_at", "updated_at", "categories", "metadata",
                "memory", "keywords", "memory_type", "type"}
_OPERATORS = {"eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains", "icontains"}
# The platform's field names, as the core filter names them (app_id is kept in metadata).
_SUBJECTS: dict[str, str | MetadataText] = {
    "user_id": "user_id", "agent_id": "agent_id", "run_id": "session_id", "app_id": MetadataText(APP_ID),
    "created_at": "created_at", "updated_at": "updated_at", "memory": "content", "keywords": "content",
    "memory_type": "type", "type": "type"}


def _moment(value: Any, field: str, *, end_of_day: bool = False) -> datetime:
    try:
        text = str(value).strip()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=_UTC)
        elif len(text) == 10:  # a bare date
            day = datetime.fromisoformat(text).replace(tzinfo=_UTC)
            moment = day + timedelta(days=1) if end_of_day else day
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=_UTC)
    except (ValueError, OverflowError, OSError):
        raise BadRequest(f"Invalid date in filters.{field}: {str(value)[:64]!r} (use YYYY-MM-DD, ISO 8601 or a Unix "
                         "time)", field=f"filters.{field}") from None
    return check_timestamp(moment, f"filters.{field}")


def _is_day(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) == 10


def _categories(spec: Any) -> Filter:
    if not isinstance(spec, dict):
        return Overlaps(CATEGORIES, frozenset(str(w) for w in (spec if isinstance(spec, list) else [spec])))
    checks: list[Filter] = []
    for op, want in spec.items():
        wanted = Overlaps(CATEGORIES, frozenset(str(w) for w in (want if isinstance(want, list) else [want])))
        if op in ("in", "contains", "eq"):
            checks.append(wanted)
        elif op in ("ne", "nin"):
            checks.append(Not(wanted))
        else:
            raise BadRequest(f"Unsupported operator '{op}' for filters.categories (use in, contains, ne)",
                             field="filters.categories")
    return all_of(checks)


def _equals(subject: str | MetadataText, want: Any, *, negate: bool = False) -> Filter:
    """Every subject here holds text (or nothing): a number or true/false equals none of them."""
    if isinstance(want, str) or want is None:
        return Compare(subject, "ne" if negate else "eq", want)
    return EVERYTHING if negate else NOTHING


def _one_of(subject: str | MetadataText, wanted: list[Any], *, negate: bool) -> Filter:
    kept = tuple(w for w in wanted if isinstance(w, str) or w is None)
    return Compare(subject, "nin" if negate else "in", kept)


def _condition(field: str, spec: Any) -> Filter:
    if field not in _VIEW_FIELDS:
        raise BadRequest(f"Unsupported filter field '{field}'; supported: AND, OR, NOT, "
                         f"{', '.join(sorted(_VIEW_FIELDS - {'keywords', 'type'}))}", field=f"filters.{field}")
    if field == "metadata":
        if not isinstance(spec, dict):
            raise BadRequest("filters.metadata must be an object of key: value pairs", field="filters.metadata")
        return all_of(MetadataEquals(check_filter_key(k, "filters.metadata"), want) for k, want in spec.items())
    if field == "categories":
        return _categories(spec)
    subject = _SUBJECTS[field]
    is_time = field in TIMES
    if not isinstance(spec, dict):
        if spec == "*":
            return Compare(subject, "present")
        if is_time:
            if _is_day(spec):  # the whole day
                return all_of([Compare(subject, "gte", _moment(spec, field)),
                               Compare(subject, "lt", _moment(spec, field, end_of_day=True))])
            return Compare(subject, "eq", _moment(spec, field))
        return _equals(subject, spec)
    checks: list[Filter] = []
    for op, want in spec.items():
        if op not in _OPERATORS:
            raise BadRequest(f"Unsupported operator '{op}' in filters.{field}; supported: "
                             f"{', '.join(sorted(_OPERATORS))}", field=f"filters.{field}")
        if op in ("in", "nin"):
            if not isinstance(want, list) or not all(is_scalar(w) for w in want):
                raise BadRequest(f"filters.{field}.{op} must be a list of plain values (text, numbers, true/false, "
                                 "null)", field=f"filters.{field}")
            checks.append(NOTHING if op == "in" and is_time else EVERYTHING if is_time
                          else _one_of(subject, want, negate=op == "nin"))
        elif op in ("eq", "ne"):
            if want == "*":
                checks.append(Compare(subject, "present" if op == "eq" else "absent"))
            elif is_time:
                checks.append(Compare(subject, op, _moment(want, field)))
            else:
                checks.append(_equals(subject, want, negate=op == "ne"))
        elif op in ("contains", "icontains"):
            if is_time:
                raise BadRequest(f"Operator '{op}' applies to text fields, not {field}", field=f"filters.{field}")
            checks.append(Compare(subject, op, str(want)))
        else:
            if not is_time:
                raise BadRequest(f"Operator '{op}' applies to created_at and updated_at only", field=f"filters.{field}")
            bound = _moment(want, field, end_of_day=op in ("lte", "gt"))
            if _is_day(want):  # a day: gt and lte mean after / through the end of that day
                op = {"gt": "gte", "gte": "gte", "lt": "lt", "lte": "lt"}[op]
            checks.append(Compare(subject, op, bound))
    return all_of(checks)


def compile_filter(node: Any, path: str = "filters") -> Filter:
    """The platform's filter object as a core filter; 400 naming the part that is malformed."""
    if not isinstance(node, dict):
        raise BadRequest(f"{path} must be a JSON object", field=path)
    parts: list[Filter] = []
    for key, spec in node.items():
        if key in ("AND", "OR", "NOT"):
            if not isinstance(spec, list) or not all(isinstance(s, dict) for s in spec):
                raise BadRequest(f"{path}.{key} must be a list of filter objects", field=f"{path}.{key}")
            subs = [compile_filter(s, f"{path}.{key}") for s in spec]
            if key == "AND":
                parts.append(all_of(subs))
            elif key == "OR":
                parts.append(Either(tuple(subs)))
            else:
                parts.append(Not(Either(tuple(subs))))
        else:
            parts.append(_condition(key, spec))
    return all_of(parts)


Conjunct = dict[str, frozenset[str]]


def _entity_values(spec: Any) -> frozenset[str] | None:
    if isinstance(spec, str) and spec != "*":
        return frozenset([spec])
    if isinstance(spec, dict):
        if isinstance(spec.get("eq"), str) and spec["eq"] != "*":
            return frozenset([spec["eq"]])
        if isinstance(spec.get("in"), list):
            return frozenset(str(v) for v in spec["in"])
    return None


def _and(left: list[Conjunct], right: list[Conjunct]) -> list[Conjunct]:
    merged: list[Conjunct] = []
    for a in left:
        for b in right:
            both = dict(a)
            for field, values in b.items():
                both[field] = both[field] & values if field in both else values
            if all(both.values()):
                merged.append(both)
    if len(merged) > MAX_SCOPES * 4:
        raise BadRequest("filters expand to too many user/agent/run combinations", field="filters")
    return merged


def _dnf(node: dict[str, Any]) -> list[Conjunct]:
    """The positive entity constraints of a filter, as alternatives: only used to pick which users to read."""
    result: list[Conjunct] = [{}]
    for key, spec in node.items():
        if key == "AND":
            for sub in spec:
                result = _and(result, _dnf(sub))
        elif key == "OR":
            alternatives = [c for sub in spec for c in _dnf(sub)]
            result = _and(result, alternatives)
        elif key in ENTITY_FIELDS:
            values = _entity_values(spec)
            if values is not None:
                result = _and(result, [{key: values}])
    return result


def scopes_for(node: dict[str, Any]) -> list[Scope]:
    scopes: dict[tuple, Scope] = {}
    for conjunct in _dnf(node):
        def single(field: str, conjunct: Conjunct = conjunct) -> str | None:
            values = conjunct.get(field)
            return next(iter(values)) if values is not None and len(values) == 1 else None

        owners: Iterable[str]
        if "user_id" in conjunct:
            owners = conjunct["user_id"]
        else:
            owners = ()
            for field, prefix in OWNER_PREFIXES:
                if field in conjunct:
                    owners = [prefix + v for v in conjunct[field]]
                    break
            else:
                raise BadRequest("filters must name the user_id whose memories to read (or, for memories stored "
                                 "without a user, their agent_id, run_id or app_id); '*' for all users is not "
                                 "supported", field="filters")
        for owner in owners:
            scope = Scope(user_id=owner, agent_id=single("agent_id"), session_id=single("run_id"))
            scopes[(scope.user_id, scope.agent_id, scope.session_id)] = scope
    if len(scopes) > MAX_SCOPES:
        raise BadRequest(f"filters name more than {MAX_SCOPES} users/agents/runs at once", field="filters")
    return list(scopes.values())


def _python_literal(text: str) -> Any:
    """A Python literal, each dict naming each key once (as strict_json asks of JSON objects)."""
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            seen: set[Any] = set()
            for key in (ast.literal_eval(k) for k in node.keys if k is not None):  # None: **, refused below
                if key in seen:
                    raise BadRequest(f"Invalid value for field 'filters.{key}': the key is given more than once in "
                                     "its object", field=f"filters.{key}")
                seen.add(key)
    return ast.literal_eval(tree)


def _parse_filters_text(text: str | None) -> dict[str, Any] | None:
    """Query-string filters: JSON, or the Python dict text some clients send; '[object Object]' means none."""
    if not text or text == "[object Object]":
        return None
    try:
        value = strict_json(text, "filters")  # nesting is checked before either parser runs
    except MalformedJson:
        try:
            value = _python_literal(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise BadRequest("filters must be a JSON object", field="filters") from None
        check_value(value, "filters")
    if not isinstance(value, dict):
        raise BadRequest("filters must be a JSON object", field="filters")
    return value or None




@dataclass(frozen=True)
class Selection:
    scopes: list[Scope]
    where: Filter  # exactly the memories to answer with: within one of the scopes, and passing every clause
    narrowing: Filter  # the clauses alone, for a search that runs scope by scope
    filtered: bool  # whether the clauses may reject memories the scopes admit


def _plain(filters: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    return bool(filters) and filters is not None and all(
        k in ENTITY_FIELDS and isinstance(v, str) and v != "*" for k, v in filters.items())


def select(request: web.Request, entities: Any, filters: dict[str, Any] | None,
           extra: list[dict[str, Any]] | None = None) -> Selection:
    """Which users' memories to read (scopes) and the exact condition every memory must meet."""
    ids = {f: getattr(entities, f, None) for f in ENTITY_FIELDS}
    if _plain(filters):  # {"user_id": "alice"}: the same as naming the ids directly
        for field, value in filters.items():
            if ids[field] not in (None, value):
                raise BadRequest(f"{field} is given twice with different values", field=field)
            ids[field] = value
        filters = None
    who = principal(request)
    if ids["user_id"] is None and who.user_id is not None:  # a key bound to a user reads that user's memories
        ids["user_id"] = who.user_id
    clauses: list[dict[str, Any]] = [{f: v} for f, v in ids.items() if v]
    if filters:
        clauses.append(filters)
    clauses.extend(extra or [])
    if not clauses:
        raise BadRequest("Name whose memories to use: user_id, agent_id, run_id or app_id (at the top level or in "
                         "filters)", field="filters")
    if who.agent_id is not None and ids["agent_id"] is None:  # a key bound to an agent sees that agent's only
        clauses.append({"agent_id": who.agent_id})
    narrowing = all_of(compile_filter(clause) for clause in clauses)
    scopes = [who.restrict(scope, fill_agent=True) for scope in scopes_for({"AND": clauses})]
    return Selection(scopes, all_of([any_of(scope_filter(s) for s in scopes), narrowing]), narrowing,
                     filtered=bool(filters or extra or ids["app_id"]))


def _list_extra(body: ListRequest) -> list[dict[str, Any]]:
    extra: list[dict[str, Any]] = []
    if body.categories:
        extra.append({"categories": {"in": body.categories}})
    if body.metadata:
        extra.append({"metadata": body.metadata})
    if body.start_date:
        extra.append({"created_at": {"gte": body.start_date}})
    if body.end_date:
        extra.append({"created_at": {"lte": body.end_date}})
    return extra
