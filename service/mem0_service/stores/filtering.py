"""Compiles the core filter language (core/filters.py) to a SQL condition on table alias `m`.

Every compiled condition is two-valued (never NULL), so NOT is exact negation: nullable operands are guarded.
The dialects differ only in placeholders, how times are stored, and how JSON metadata is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mem0_service.core.filters import NULLABLE, All, Compare, Either, Filter, MetadataEquals, MetadataText, Not, Overlaps

FALSE, TRUE = "(1 = 0)", "(1 = 1)"


class Dialect:
    mark: str

    def time(self, value: datetime) -> Any:
        return value

    def metadata_text(self, key: str) -> tuple[str, list]:
        """SQL for the text under a metadata key (NULL when missing or not text)."""
        raise NotImplementedError

    def metadata_equals(self, key: str, value: Any) -> tuple[str, list]:
        raise NotImplementedError

    def overlaps(self, key: str, values: list[str]) -> tuple[str, list]:
        raise NotImplementedError

    def icontains(self, operand: str, needle: str) -> tuple[str, list]:
        raise NotImplementedError

    def contains(self, operand: str, needle: str) -> tuple[str, list]:
        raise NotImplementedError


class SQLiteDialect(Dialect):
    """Times are fixed-width ISO text (stores/base.py `iso`), metadata JSON text read with the JSON1 functions."""

    mark = "?"

    def __init__(self, iso: Callable[[datetime], str]):
        self._iso = iso

    def time(self, value: datetime) -> Any:
        return self._iso(value)

    @staticmethod
    def path(key: str) -> str:
        return '$."' + key + '"'

    # SQLite's JSON paths have no escape for a double quote inside a label, so a key holding one is found by
    # walking the object's members instead (slower, and only for such keys).
    def _kind(self, key: str) -> tuple[str, list]:
        if '"' in key:
            return "(SELECT k.type FROM json_each(m.metadata) k WHERE k.key = ?)", [key]
        return "json_type(m.metadata, ?)", [self.path(key)]

    def _value(self, key: str) -> tuple[str, list]:
        if '"' in key:
            return "(SELECT k.value FROM json_each(m.metadata) k WHERE k.key = ?)", [key]
        return "json_extract(m.metadata, ?)", [self.path(key)]

    def metadata_text(self, key: str) -> tuple[str, list]:
        (kind, kp), (value, vp) = self._kind(key), self._value(key)
        return f"(CASE WHEN {kind} = 'text' THEN {value} END)", [*kp, *vp]

    def metadata_equals(self, key: str, value: Any) -> tuple[str, list]:
        (kind, kp), (stored, vp) = self._kind(key), self._value(key)
        if value is None:
            return f"COALESCE({kind} = 'null', 1)", kp
        if isinstance(value, bool):
            return f"COALESCE({kind} = ?, 0)", [*kp, "true" if value else "false"]
        if isinstance(value, (int, float)):
            return f"COALESCE({kind} IN ('integer', 'real') AND {stored} = ?, 0)", [*kp, *vp, value]
        if isinstance(value, str):
            return f"COALESCE({kind} = 'text' AND {stored} = ?, 0)", [*kp, *vp, value]
        return (f"COALESCE({kind} IN ('array', 'object') AND {stored} = json(?), 0)",
                [*kp, *vp, json.dumps(value, ensure_ascii=False, separators=(",", ":"))])

    def overlaps(self, key: str, values: list[str]) -> tuple[str, list]:
        marks = ", ".join("?" * len(values))
        if '"' in key:
            # a lone string is wrapped so that json_each sees one element, as it does for a path to a string
            return (f"EXISTS (SELECT 1 FROM json_each(m.metadata) k, json_each(CASE WHEN k.type = 'text' "
                    f"THEN json_array(k.value) ELSE k.value END) e WHERE k.key = ? AND k.type IN ('text', 'array') "
                    f"AND e.type = 'text' AND e.value IN ({marks}))", [key, *values])
        path = self.path(key)
        return (f"EXISTS (SELECT 1 FROM json_each(m.metadata, ?) e WHERE json_type(m.metadata, ?) IN ('text', 'array') "
                f"AND e.type = 'text' AND e.value IN ({marks}))", [path, path, *values])

    def contains(self, operand: str, needle: str) -> tuple[str, list]:
        return f"COALESCE(instr({operand}, ?) > 0, 0)", [needle]

    def icontains(self, operand: str, needle: str) -> tuple[str, list]:
        # casefold is registered on the store's connection (SQLite's lower() folds ASCII only)
        return f"COALESCE(instr(casefold({operand}), ?) > 0, 0)", [needle.casefold()]


class PostgresDialect(Dialect):
    mark = "%s"

    def __init__(self, jsonb: Callable[[Any], Any]):
        self._jsonb = jsonb

    def metadata_text(self, key: str) -> tuple[str, list]:
        return "(CASE WHEN jsonb_typeof(m.metadata -> %s) = 'string' THEN m.metadata ->> %s END)", [key, key]

    def metadata_equals(self, key: str, value: Any) -> tuple[str, list]:
        if value is None:
            return "COALESCE(jsonb_typeof(m.metadata -> %s) = 'null', TRUE)", [key]
        return "COALESCE(m.metadata -> %s = %s, FALSE)", [key, self._jsonb(value)]

    def overlaps(self, key: str, values: list[str]) -> tuple[str, list]:
        # `?|` matches array elements and a lone string alike
        return ("COALESCE(jsonb_typeof(m.metadata -> %s) IN ('string', 'array') AND (m.metadata -> %s) ?| %s, FALSE)",
                [key, key, values])

    def contains(self, operand: str, needle: str) -> tuple[str, list]:
        return f"COALESCE(strpos({operand}, %s) > 0, FALSE)", [needle]

    def icontains(self, operand: str, needle: str) -> tuple[str, list]:
        return f"COALESCE(strpos(lower({operand}), lower(%s)) > 0, FALSE)", [needle]


def compile_filter(flt: Filter, dialect: Dialect) -> tuple[str, list]:
    """(sql, params) selecting exactly the memories the filter admits."""
    if isinstance(flt, (All, Either)):
        if not flt.parts:
            return (TRUE, []) if isinstance(flt, All) else (FALSE, [])
        compiled = [compile_filter(part, dialect) for part in flt.parts]
        joiner = " AND " if isinstance(flt, All) else " OR "
        return "(" + joiner.join(sql for sql, _ in compiled) + ")", [p for _, params in compiled for p in params]
    if isinstance(flt, Not):
        sql, params = compile_filter(flt.part, dialect)
        return f"(NOT {sql})", params
    if isinstance(flt, MetadataEquals):
        return dialect.metadata_equals(flt.key, flt.value)
    if isinstance(flt, Overlaps):
        return dialect.overlaps(flt.key, sorted(flt.values)) if flt.values else (FALSE, [])
    return _compare(flt, dialect)


def _compare(cmp: Compare, dialect: Dialect) -> tuple[str, list]:
    if isinstance(cmp.field, MetadataText):
        operand, base = dialect.metadata_text(cmp.field.key)
        nullable = True
    else:
        operand, base = f"m.{cmp.field}", []
        nullable = cmp.field in NULLABLE
    mark = dialect.mark

    def value(v: Any) -> Any:
        return dialect.time(v) if isinstance(v, datetime) else v

    op = cmp.op
    if op == "present":
        return f"({operand} IS NOT NULL)", base
    if op == "absent":
        return f"({operand} IS NULL)", base
    if op in ("contains", "icontains"):
        sql, params = (dialect.contains if op == "contains" else dialect.icontains)(operand, cmp.value)
        return sql, [*base, *params]
    if op in ("eq", "ne"):
        if cmp.value is None:
            return f"({operand} IS {'NULL' if op == 'eq' else 'NOT NULL'})", base
        if not nullable:
            return f"({operand} {'=' if op == 'eq' else '<>'} {mark})", [*base, value(cmp.value)]
        if op == "eq":
            return f"({operand} IS NOT NULL AND {operand} = {mark})", [*base, *base, value(cmp.value)]
        return f"({operand} IS NULL OR {operand} <> {mark})", [*base, *base, value(cmp.value)]
    if op in ("in", "nin"):
        present = [value(v) for v in cmp.value if v is not None]
        with_null = any(v is None for v in cmp.value)
        if not present:
            sql, params = (f"({operand} IS NULL)", base) if with_null else (FALSE, [])
        else:
            listed = f"{operand} IN ({', '.join([mark] * len(present))})"
            if with_null:
                sql, params = f"({operand} IS NULL OR {listed})", [*base, *base, *present]
            elif nullable:
                sql, params = f"({operand} IS NOT NULL AND {listed})", [*base, *base, *present]
            else:
                sql, params = f"({listed})", [*base, *present]
        return (sql, params) if op == "in" else (f"(NOT {sql})", params)
    symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({operand} {symbol} {mark})", [*base, value(cmp.value)]
