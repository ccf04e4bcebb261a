"""Turning raw requests into validated models, and pydantic's complaints into errors that name the field."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from mem0_service.api.models import Identifier
from mem0_service.errors import BadRequest, PayloadTooLarge
from mem0_service.state import SETTINGS

M = TypeVar("M", bound=BaseModel)


def validation_error(exc: ValidationError) -> BadRequest:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    if first["type"] == "missing":
        return BadRequest(f"Missing required field: {field}", field=field)
    message = first["msg"].removeprefix("Value error, ")
    if field is None:  # a whole-object rule names its field in the message
        named = re.search(r"field: (\w+)", message) or re.match(r"Give either (\w+)", message)
        field = named.group(1) if named else None
        return BadRequest(message, field=field)
    if first["type"] == "string_pattern_mismatch":
        message = "must be 1-128 characters: letters, digits and _ . @ : + -"
    if first["type"] == "enum":
        message = f"must be one of: {first['ctx']['expected']}"
    return BadRequest(f"Invalid value for field '{field}': {message}", field=field)


async def parse_body(request: web.Request, model: type[M]) -> M:
    if request.content_length is not None and request.content_length > request.app[SETTINGS].max_body_bytes:
        raise PayloadTooLarge(f"Request body is larger than {request.app[SETTINGS].max_body_bytes} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"Request body is larger than {request.app[SETTINGS].max_body_bytes} bytes") from None
    if not raw.strip():
        raise BadRequest("Request body must be a JSON object")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    # One reading of each parameter: given twice, which value counts would depend on who reads it.
    repeated = sorted({name for name in request.query if len(request.query.getall(name)) > 1})
    if repeated:
        raise BadRequest(f"Query parameter '{repeated[0]}' is given more than once", field=repeated[0])
    try:
        return model.model_validate({k: v for k, v in request.query.items() if v != ""})
    except ValidationError as exc:
        raise validation_error(exc) from None


_IDENTIFIER = TypeAdapter(Identifier)


def parse_path_identifier(request: web.Request, name: str) -> str:
    try:
        return _IDENTIFIER.validate_python(request.match_info[name])
    except ValidationError as exc:
        error = validation_error(exc)
        raise BadRequest(f"Invalid value for field '{name}': {error.message.split(': ', 1)[-1]}", field=name) from None
