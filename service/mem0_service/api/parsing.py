"""Turning raw requests into validated models, and pydantic's complaints into errors that name the field."""

from __future__ import annotations

import functools
import re
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from mem0_service.api import values
from mem0_service.api.models import Identifier, PathIdentifier
from mem0_service.errors import BadRequest, PayloadTooLarge
from mem0_service.state import SETTINGS

M = TypeVar("M", bound=BaseModel)


def validation_error(exc: ValidationError) -> BadRequest:
    first = exc.errors()[0]
    field = values.printable_name(".".join(str(part) for part in first["loc"]) or None)
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


def _is_number(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    return get_origin(annotation) in (Union, UnionType, Annotated) and any(_is_number(a) for a in get_args(annotation))


@functools.cache
def _number_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The names (as clients send them) of the model's fields that take a number."""
    return tuple(info.alias or name for name, info in model.model_fields.items() if _is_number(info.annotation))


def validated(model: type[M], data: Any) -> M:
    """`data` as `model`, or the 400 naming the first field it gets wrong."""
    if isinstance(data, dict):
        # pydantic reads JSON's true and false as the numbers 1 and 0: `"ttl_seconds": true` would forget the
        # memory a second later, `"relevance_threshold": true` would find nothing.
        for name in _number_fields(model):
            if isinstance(data.get(name), bool):
                raise BadRequest(f"Invalid value for field '{name}': must be a number, not {str(data[name]).lower()}",
                                 field=name)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


async def parse_body(request: web.Request, model: type[M], *, items_checked_later: str | None = None) -> M:
    """The body as `model`. `items_checked_later` names a list whose items the handler checks one by one
    (values.check_value) so that one bad item fails alone."""
    if request.content_length is not None and request.content_length > request.app[SETTINGS].max_body_bytes:
        raise PayloadTooLarge(f"Request body is larger than {request.app[SETTINGS].max_body_bytes} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"Request body is larger than {request.app[SETTINGS].max_body_bytes} bytes") from None
    if not raw.strip():
        raise BadRequest("Request body must be a JSON object")
    data = values.strict_json(raw, check=False)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    per_item = items_checked_later if isinstance(data.get(items_checked_later), list) else None
    values.check_value({name: value for name, value in data.items() if name != per_item})
    return validated(model, data)


def query_values(request: web.Request) -> dict[str, str]:
    """Every query parameter once: a parameter given twice is refused, so whoever reads it (the key's guard,
    the handler) sees the same value. Empty values count as not given."""
    found: dict[str, str] = {}
    for name, value in request.query.items():
        values.check_string(name, name[:64])
        if name in found:
            raise BadRequest(f"Query parameter '{name}' is given more than once", field=name)
        found[name] = values.check_string(value, name)
    return {name: value for name, value in found.items() if value != ""}


def query_value(request: web.Request, name: str) -> str | None:
    """One query parameter, read strictly (see query_values); None when absent or empty."""
    given = request.query.getall(name, [])
    if len(given) > 1:
        raise BadRequest(f"Query parameter '{name}' is given more than once", field=name)
    return values.check_string(given[0], name) or None if given else None


def parse_query(request: web.Request, model: type[M]) -> M:
    return validated(model, query_values(request))


def path_value(request: web.Request, name: str) -> str:
    """A path parameter (an id) that may reach a store: no NUL, no lone surrogates."""
    return values.check_string(request.match_info[name], name)


_IDENTIFIER = TypeAdapter(Identifier)
_PATH_IDENTIFIER = TypeAdapter(PathIdentifier)


def check_identifier(value: str, name: str, rule: TypeAdapter[str] = _IDENTIFIER) -> str:
    """An id (user, session, agent) given outside a model, checked by the same rule as the models' ids."""
    try:
        return rule.validate_python(value)
    except ValidationError as exc:
        error = validation_error(exc)
        raise BadRequest(f"Invalid value for field '{name}': {error.message.split(': ', 1)[-1]}", field=name) from None


def parse_path_identifier(request: web.Request, name: str) -> str:
    """An id from the path, by the id rules except the refusal of . and .. (see models.Identifier)."""
    return check_identifier(path_value(request, name), name, _PATH_IDENTIFIER)
