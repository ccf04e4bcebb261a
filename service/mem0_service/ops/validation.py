"""The value rules a restored or imported record must meet before anything is written.

They are the rules of the API's own boundary, so that a record which could not have been created through the API
cannot be written through the back door either: a timestamp both record stores can hold and give back (a time zone,
and a year from 1 to 9999 once converted to UTC: PostgreSQL stores wider ranges, but psycopg cannot load them),
strings without NUL characters or lone surrogates (PostgreSQL refuses the first, UTF-8 cannot encode the second),
finite numbers, integers within 64 bits and JSON nested at most MAX_DEPTH levels.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

MAX_DEPTH = 32  # well above the API's metadata limit: archives of earlier versions still restore
INT_RANGE = (-(2**63), 2**63 - 1)


class InvalidValue(ValueError):
    """A value breaks a rule; `field` names where it sits (e.g. metadata.tags[2])."""

    def __init__(self, field: str, problem: str):
        shown = field if len(field) <= 80 else field[:60] + "..." + field[-17:]
        super().__init__(f"field '{shown}' {problem}")
        self.field = field
        self.problem = problem


def parse_json(text: str | bytes) -> Any:
    """One JSON document. NaN and Infinity parse (as floats) so that check_json can name the field holding them;
    nesting too deep for the parser is an error, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


def check_text(value: str, field: str) -> str:
    if "\x00" in value:
        raise InvalidValue(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue(field, "contains a lone surrogate (not valid Unicode)") from None
    return value


def check_json(value: Any, field: str, depth: int = 1) -> Any:
    """A JSON value (metadata) that both stores keep as given: checked all the way down."""
    if isinstance(value, str):
        return check_text(value, field)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise InvalidValue(field, "holds an integer beyond 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(field, "holds a number that is not finite")
        return value
    if depth > MAX_DEPTH:
        raise InvalidValue(field, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{field} key {key[:40]!r}")
            check_json(item, f"{field}.{key}", depth + 1)
        return value
    if isinstance(value, list):
        for position, item in enumerate(value):
            check_json(item, f"{field}[{position}]", depth + 1)
        return value
    raise InvalidValue(field, f"holds a {type(value).__name__}, not a JSON value")


def parse_timestamp(text: str, field: str) -> datetime:
    """An ISO 8601 timestamp with a time zone, as UTC, within the years 1-9999 once converted."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(field, "is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidValue(field, "must carry a time zone (e.g. ...Z)")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidValue(field, "lies outside the years 1-9999 once converted to UTC") from None


def utc_text(moment: datetime) -> str:
    """The one fixed-width form timestamps are written in (four-digit years included, e.g. 0999-...)."""
    moment = moment.astimezone(timezone.utc)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S.%f}Z"
