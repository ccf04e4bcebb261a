"""Hostile requests for every operation of the served OpenAPI document, derived from the document itself so a new
route or field is attacked without anyone writing a test for it.

Each field and parameter gets a few values chosen by its schema type (the choice rotates over the field's position
so the whole catalogue is used while the request count stays at a few hundred per backend)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mem0_service.api.openapi import build_openapi
from mem0_service.api.platform_models import NotSupportedResponse
from mem0_service.api.routes import ROUTES

DOCUMENT = build_openapi(ROUTES)
SCHEMAS = DOCUMENT["components"]["schemas"]
# mem0 platform features this service does not offer answer 501 by design, before reading the request.
UNSUPPORTED = {(r.method, r.path) for r in ROUTES if r.response is NotSupportedResponse}

# Raw JSON fragments: some of them (NaN, 1e400, 5,000 digits) cannot be produced by json.dumps.
NUL = json.dumps("before\x00after")
SURROGATE = '"before\\ud800after"'
OVERSIZED = json.dumps("x" * 300_000)
DATE_OVERFLOW_HIGH = '"9999-12-31T23:59:59-05:00"'
DATE_OVERFLOW_LOW = '"0001-01-01T00:00:00+05:00"'
DATE_YEAR_99999 = '"99999-01-01T00:00:00Z"'
INT_5000_DIGITS = "9" * 5000
INT_2_63 = str(2**63)
NAN, INFINITY, NEG_INFINITY, FLOAT_OVERFLOW = "NaN", "Infinity", "-Infinity", "1e400"
DEEP_ARRAY = "[" * 2000 + "]" * 2000
DEEP_OBJECT = '{"k":' * 600 + "1" + "}" * 600
OBJECT_HOSTILE = ['{"key": 18446744073709551616}', '{"a\\"b": 1}', '{"key": NaN}', '{"key": {"inner": "\\u0000"}}',
                  '{"k\\ud800": 1}', DEEP_OBJECT]
# Values no store can hold, wherever they appear in a body: the boundary must refuse them with a 400.
ALWAYS_REFUSED = {NUL, SURROGATE, INT_5000_DIGITS, INT_2_63, NAN, INFINITY, NEG_INFINITY, FLOAT_OVERFLOW, DEEP_ARRAY,
                  DEEP_OBJECT, *OBJECT_HOSTILE[:1], *OBJECT_HOSTILE[2:]}

BY_KIND = {
    "date-time": [DATE_OVERFLOW_HIGH, DATE_OVERFLOW_LOW, DATE_YEAR_99999],
    "date": [DATE_OVERFLOW_HIGH, DATE_OVERFLOW_LOW, '"9999-12-31"'],
    "integer": [INT_2_63, INT_5000_DIGITS, NAN, "-1", '"12"'],
    "number": [NAN, INFINITY, FLOAT_OVERFLOW, NEG_INFINITY, INT_5000_DIGITS],
    "object": OBJECT_HOSTILE,
    "array": [DEEP_ARRAY, '[["nested"]]', "[" + ",".join([NUL] * 3) + "]"],
    "boolean": ['"maybe"', NAN, "[true]"],
    "string": [OVERSIZED, '{"not": "text"}', "12345", "[]"],
    "any": [DEEP_ARRAY, NAN, OVERSIZED],
}
QUERY_BY_KIND = {
    "date-time": ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "0999-06-01T00:00:00Z"],
    "integer": [str(2**63), "9" * 5000, "NaN", "-5"],
    "number": ["NaN", "1e400"],
    "boolean": ["maybe"],
    "json": ["[" * 1000 + "]" * 1000, '{"a\\"b": 1}', '{"k": 18446744073709551616}', '{"k": NaN}',
             "{'user_id': " + "(" * 200 + "1" + ")" * 200 + "}"],
    "string": ["x" * 5000, "a b/c"],
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def kind_of(schema: dict[str, Any], name: str = "") -> str:
    """The first non-null type of a property schema, with date-ish strings told apart."""
    schema = _resolve(schema)
    options = [_resolve(s) for s in schema.get("anyOf", [schema])]
    options = [s for s in options if s.get("type") != "null"] or [{}]
    first = options[0]
    if first.get("format") == "date-time":
        return "date-time"
    kind = first.get("type", "any")
    if kind == "string" and re.search(r"date|_at$|before|after", name):
        return "date"
    if "$ref" in first or "properties" in first:
        return "object"
    return kind if kind in BY_KIND else "any"


@dataclass
class Operation:
    method: str
    path: str
    path_params: list[str]
    query: dict[str, dict[str, Any]]  # name -> schema
    body: dict[str, dict[str, Any]]  # name -> property schema
    required: list[str] = field(default_factory=list)

    @property
    def unsupported(self) -> bool:
        return (self.method, self.path) in UNSUPPORTED

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations() -> list[Operation]:
    found = []
    for path, methods in DOCUMENT["paths"].items():
        for method, op in methods.items():
            params = op.get("parameters", [])
            body: dict[str, Any] = {}
            required: list[str] = []
            if "requestBody" in op:
                schema = _resolve(op["requestBody"]["content"]["application/json"]["schema"])
                body, required = schema.get("properties", {}), schema.get("required", [])
            found.append(Operation(method.upper(), path, [p["name"] for p in params if p["in"] == "path"],
                                   {p["name"]: p["schema"] for p in params if p["in"] == "query"}, body, required))
    return found


@dataclass
class Context:
    """What a well-formed request of the attacking user looks like."""
    user: str
    memory_id: str
    key_id: str

    def path_value(self, name: str) -> str:
        return {"user_id": self.user, "memory_id": self.memory_id, "key_id": self.key_id, "entity_type": "user",
                "entity_id": self.user, "session_id": "hostile-session"}.get(name, "hostile-id")

    def body_value(self, op: Operation, name: str) -> Any:
        platform = not op.path.startswith("/api/")
        if name == "memories":
            if op.path == "/api/memories/batch":
                return [{"user_id": self.user, "content": "a batch probe"}]
            return [{"memory_id": "mem_does_not_exist", "text": "probe"}]
        if name == "messages":
            return "remember the probe" if platform else [{"role": "user", "content": "a probe"}]
        return {"user_id": self.user, "content": "a hostile probe", "query": "probe", "text": "probe",
                "infer": False, "url": "https://hooks.example.com/hostile-probe",
                "jsonrpc": "2.0", "method": "ping", "id": 1}.get(name)  # the last three: MCP's JSON-RPC envelope

    def baseline_body(self, op: Operation) -> dict[str, Any]:
        body = {name: self.body_value(op, name) for name in op.required}
        if "user_id" in op.body:
            body["user_id"] = self.user
        if op.method == "POST" and op.path == "/api/memories":
            body["content"] = self.body_value(op, "content")
        if "infer" in op.body and not op.path.startswith("/api/"):
            body["infer"] = False  # no chat model is configured: store as given
        return {k: v for k, v in body.items() if v is not None}

    def baseline_query(self, op: Operation) -> dict[str, str]:
        return {"user_id": self.user} if "user_id" in op.query and op.path.startswith("/api/sessions") else {}


@dataclass
class Attack:
    description: str
    path: str
    query: str = ""  # already encoded
    body: bytes | None = None
    field: str | None = None  # the body field or parameter the answer must name, when it is a 400
    must_refuse: bool = False  # no store can hold the value: a 400 is the only right answer


def _raw_body(base: dict[str, Any], name: str, fragment: str) -> bytes:
    marker = "\u2603HOSTILE\u2603"
    text = json.dumps({**base, name: marker}, ensure_ascii=False)
    return text.replace(json.dumps(marker, ensure_ascii=False), fragment).encode("utf-8")


def _twice(base: dict[str, Any], name: str) -> bytes:
    """The body with `name` given twice, its usual value first: JSON parsers disagree on which one counts."""
    others = json.dumps({k: v for k, v in base.items() if k != name}, ensure_ascii=False)
    first = json.dumps(base.get(name, "probe"), ensure_ascii=False)
    pairs = f'"{name}": {first}, "{name}": "other"'
    return (others[:-1] + (", " if len(others) > 2 else "") + pairs + "}").encode("utf-8")


def _encode(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


def attacks(op: Operation, ctx: Context) -> list[Attack]:
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", quote(ctx.path_value(name), safe=""))
    base_query = list(ctx.baseline_query(op).items())
    base_body = ctx.baseline_body(op) if op.body else None
    found: list[Attack] = []

    def send(description: str, *, on_path: str = path, query: list[tuple[str, str]] | None = None,
             body: bytes | None = None, named: str | None = None, refuse: bool = False) -> None:
        raw_body = body if body is not None else (json.dumps(base_body).encode() if base_body is not None else None)
        found.append(Attack(description, on_path, _encode(base_query + (query or [])), raw_body, named, refuse))

    for position, name in enumerate(op.path_params):
        hostile = ["bad%00id", "bad%ED%A0%80id", "%FF%FE", "x" * 9000][position % 2::2]
        for value in hostile:
            on_path = op.path
            for other in op.path_params:
                on_path = on_path.replace("{" + other + "}", value if other == name else
                                          quote(ctx.path_value(other), safe=""))
            send(f"path {name}={value[:20]}", on_path=on_path, named=name if "%00" in value else None,
                 refuse="%00" in value)

    for position, (name, schema) in enumerate(op.query.items()):
        kind = "json" if name in ("metadata", "filters") else kind_of(schema, name)
        choices = QUERY_BY_KIND.get(kind, QUERY_BY_KIND["string"])
        send(f"query {name} with NUL", query=[(name, "a\x00b")], named=name, refuse=True)
        send(f"query {name} given twice", query=[(name, ctx.path_value(name)), (name, "other")], named=name,
             refuse=True)
        send(f"query {name}={choices[position % len(choices)][:30]}", query=[(name, choices[position % len(choices)])])

    if base_body is not None:
        for position, (name, schema) in enumerate(op.body.items()):
            kind = kind_of(schema, name)
            choices = BY_KIND[kind]
            for fragment in (NUL if position % 2 == 0 else SURROGATE, choices[position % len(choices)]):
                refuse = fragment in ALWAYS_REFUSED and not op.unsupported
                named = name if refuse and fragment not in (DEEP_ARRAY, DEEP_OBJECT) else None
                send(f"body {name}={fragment[:30]}", body=_raw_body(base_body, name, fragment), named=named,
                     refuse=refuse)
            # pydantic would read true as 1 and false as 0: a TTL of one second, a threshold nothing passes
            if kind_of(schema, name) in ("integer", "number"):
                send(f"body {name}=true", body=_raw_body(base_body, name, "true"), named=name,
                     refuse=not op.unsupported)
            send(f"body {name} given twice", body=_twice(base_body, name), named=name, refuse=not op.unsupported)
        send("body nested 1,000 deep", body=b'{"a":' * 1000 + b"1" + b"}" * 1000, refuse=not op.unsupported)
        send("body not UTF-8", body=b'{"user_id": "\xff\xfe"}', refuse=not op.unsupported)
        send("body NaN at the top", body=b"NaN", refuse=not op.unsupported)
        send("body over MEM0_MAX_BODY_BYTES", body=b'{"content": "' + b"x" * (1024 * 1024) + b'"}')
    elif op.method in ("POST", "PUT", "PATCH"):
        send("unexpected deep body", body=b"[" * 5000 + b"]" * 5000)
    return found
