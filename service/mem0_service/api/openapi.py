"""The OpenAPI 3.1 document, generated from the route table and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from mem0_service import __version__
from mem0_service.api.models import ErrorResponse
from mem0_service.api.policy import Route
from mem0_service.api.responses import json_response

REF = "#/components/schemas/{model}"
ERRORS = {400: "Invalid input (the field is named)", 401: "Missing or invalid API key", 403: "Key not allowed",
          404: "Not found", 413: "Body too large", 429: "Rate limit exceeded (see Retry-After)",
          501: "A mem0 platform feature this self-hosted service does not offer", 503: "A dependency is unavailable"}
# Errors only routes reading these request headers give.
HEADER_ERRORS = {"If-Match": {412: "The memory changed: its ETag is not the one given in If-Match"},
                 "Idempotency-Key": {409: "A request with this Idempotency-Key is still being processed",
                                     422: "The Idempotency-Key was used before with a different request"}}
ETAG = {"ETag": {"description": "The memory's version, for If-Match on PUT and DELETE", "schema": {"type": "string"}}}


def _responses(route: Route) -> tuple[type[BaseModel], ...]:
    if route.response is None:
        return ()
    return route.response if isinstance(route.response, tuple) else (route.response,)


def build_openapi(routes: list[Route]) -> dict[str, Any]:
    used: set[type[BaseModel]] = {ErrorResponse}
    for route in routes:
        used.update(m for m in (route.body, *_responses(route), route.accepted) if m is not None)
    keyed: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "validation" if any(r.body is m for r in routes) else "serialization") for m in used]
    mapping, schemas = models_json_schema(sorted(keyed, key=lambda k: k[0].__name__), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag],
                              "operationId": route.handler.__name__, "x-access": route.access}
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"{(\w+)}", route.path)]
        if route.query is not None:
            for name, field in route.query.model_fields.items():
                schema = route.query.model_json_schema()["properties"][name]
                params.append({"name": name, "in": "query", "required": field.is_required(), "schema": schema})
        if route.headers is not None:
            for name, field in route.headers.model_fields.items():
                schema = route.headers.model_json_schema(by_alias=False)["properties"][name]
                params.append({"name": field.alias or name, "in": "header", "required": field.is_required(),
                               "description": field.description, "schema": schema})
        if params:
            op["parameters"] = params
        if route.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": mapping[(route.body, "validation")]}}}
        responses: dict[str, Any] = {}
        if route.response is None:  # not JSON (e.g. Prometheus text)
            responses[str(route.status)] = {"description": "OK"}
        else:
            refs = [mapping[(m, "validation" if (m, "validation") in mapping else "serialization")]
                    for m in _responses(route)]
            schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
            responses[str(route.status)] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
            if route.status == 201:
                responses["200"] = {"description": "Nothing new stored (existing duplicate returned)",
                                    "content": {"application/json": {"schema": schema}}}
        if route.accepted is not None:
            responses["202"] = {"description": "Accepted: queued, the event tells the outcome", "content": {
                "application/json": {"schema": mapping[(route.accepted, "serialization")]}}}
        if route.etag:
            responses[str(route.status)]["headers"] = ETAG
        error_ref = mapping[(ErrorResponse, "serialization")]
        errors = dict(ERRORS) if not route.public else {}
        for field in (route.headers.model_fields.values() if route.headers is not None else ()):
            errors.update(HEADER_ERRORS.get(field.alias or "", {}))
        for code in sorted(errors):
            responses[str(code)] = {"description": errors[code], "content": {"application/json": {"schema": error_ref}}}
        op["responses"] = responses
        if not route.public:
            op["security"] = [{"bearerAuth": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mem0 memory service", "version": __version__,
                 "description": "Memory layer for AI workflows: store, search and manage what users, sessions and "
                                "agents should remember."},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}),
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


def openapi_handler(document: dict[str, Any]):
    async def openapi(request: web.Request) -> web.Response:
        return json_response(document)
    return openapi
