"""The one boundary every value from a client crosses: JSON text, strings, integers and timestamps.

What passes here can be stored by both record stores (SQLite text and JSON, PostgreSQL text, jsonb and
timestamptz) and read back identically, so a bad value is refused with a 400 naming its field instead of
failing later inside a store, for this request or for every request after it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Any

from mem0_service.errors import BadRequest

# JSON nesting, counted in objects and arrays. Checked on the raw text before any parser recurses.
MAX_JSON_DEPTH = 32
# Integers both stores keep exactly: SQLite's JSON functions turn larger ones into floats, jsonb would not.
MIN_INT, MAX_INT = -(2**63), 2**63 - 1
_MAX_INT_DIGITS = 20  # longer digit strings are refused before Python converts them (that costs quadratic time)

# Instants both stores can hold and give back: Python's datetime ends at years 1 and 9999, and PostgreSQL
# renders a timestamptz in the session's time zone (up to about 16 hours away from UTC) before psycopg reads
# it, so the first and the last day of that calendar are left out.
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=timezone.utc)
RANGE_TEXT = "0001-01-02T00:00:00Z and 9999-12-30T23:59:59.999999Z"

# Paging past this many records finds nothing anyway; larger values would overflow the stores' 64-bit OFFSET.
MAX_OFFSET = 1_000_000_000

# Keys of a metadata filter end up in a JSON path (SQLite) or a jsonb document (PostgreSQL).
_FILTER_KEY = re.compile(r'^[^"\\\x00-\x1f\x7f]{1,128}$')

# A JSON string, or an unterminated one running to the end of the text. Without the second reading every quote
# after an unterminated string's opening one starts a new attempt that scans to the end again: a 60 kB body of
# escaped quotes took 8 s of the event loop, a 1 MB one about half an hour.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}()]+")
_INNERMOST = re.compile(r"\[\]|\{\}|\(\)")


def _label(field: str | None) -> str:
    return f"field '{field}'" if field else "the JSON body"


def check_nesting(text: str, field: str | None = None, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse text whose brackets nest deeper than `limit`, without recursing: strings are cut out, then the
    innermost bracket pairs are removed once per level."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return
        brackets, removed = _INNERMOST.subn("", brackets)
        if not removed:
            return  # brackets that do not pair up: the parser names the syntax error
    if brackets and _INNERMOST.search(brackets):
        raise BadRequest(f"Invalid value for {_label(field)}: JSON may nest at most {limit} levels", field=field)


class MalformedJson(BadRequest):
    """The text is not JSON at all (as opposed to JSON carrying a value that is refused)."""


class _Refused:
    """What the parser hands back for a number or constant that is refused once its place in the document is known."""

    def __init__(self, text: str, reason: str):
        self.text, self.reason = text, reason


def _parse_int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _Refused(text, "integers must fit in 64 bits")
    return int(text)


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _Refused(text, f"{text[:20]} is out of range for a number")


def _parse_constant(text: str) -> _Refused:
    return _Refused(text, f"{text} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    # A key given twice in one object: parsers disagree on which value counts (the first, the last, an error),
    # so a proxy or workflow that checked one of them could have the service act on the other.
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            found[key] = _Refused(key, "the key is given more than once in its object")
        seen.add(key)
    return found


def strict_json(text: str | bytes, field: str | None = None, *, check: bool = True) -> Any:
    """Strict JSON: RFC 8259 numbers only (no NaN/Infinity, nothing that overflows), bounded nesting, 64-bit
    integers, each key once per object, and strings without NUL or lone surrogates. `field` names the parameter
    the text came from.
    With check=False the caller runs check_value itself, on parts of the document of its choosing; until then
    refused numbers stand in the document as placeholders no model accepts."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"Invalid value for {_label(field)}: not UTF-8 ({exc.reason} at byte {exc.start})",
                             field=field) from None
    check_nesting(text, field)
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant,
                           object_pairs_hook=_object)
    except (json.JSONDecodeError, RecursionError) as exc:
        what = f"Invalid value for field '{field}': malformed JSON" if field else "Malformed JSON body"
        raise MalformedJson(f"{what}: {exc}", field=field) from None
    if check:
        check_value(value, field)
    return value


def string_problem(text: str) -> str | None:
    """Why a string cannot be stored identically everywhere, or None."""
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain lone surrogates (\\ud800-\\udfff) or bytes that are not UTF-8"
    return None


def printable_name(name: str | None) -> str | None:
    """A field name built from client input, safe to echo in an error (no NUL, no lone surrogates, short)."""
    if name is None:
        return None
    return name[:200].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def check_string(text: str, field: str | None) -> str:
    problem = string_problem(text)
    if problem:
        field = printable_name(field)
        raise BadRequest(f"Invalid value for {_label(field)}: {problem}", field=field)
    return text


def _join(path: str | None, part: object) -> str:
    part = str(part)[:64]
    return f"{path}.{part}" if path else part


def check_value(value: Any, path: str | None = None) -> None:
    """Walk a decoded JSON document (nesting already bounded) and refuse the first value no store can hold."""
    if isinstance(value, str):
        check_string(value, path)
    elif isinstance(value, _Refused):
        raise BadRequest(f"Invalid value for {_label(path)}: {value.reason}", field=path)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise BadRequest(f"Invalid value for {_label(path)}: integers must fit in 64 bits", field=path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadRequest(f"Invalid value for {_label(path)}: must be a finite number", field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise BadRequest(f"Invalid value for {_label(path)}: object keys must be strings", field=path)
            if string_problem(key):
                field = printable_name(_join(path, key))
                raise BadRequest(f"Invalid key in {_label(field)}: {string_problem(key)}", field=field)
            check_value(item, _join(path, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            check_value(item, _join(path, position))
    else:
        raise BadRequest(f"Invalid value for {_label(path)}: not a JSON value", field=path)


def check_timestamp(value: datetime, field: str | None = None) -> datetime:
    """The instant in UTC, if both stores can hold it; a time without an offset is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        message = f"must lie between {RANGE_TEXT} (after conversion to UTC)"
        if field is None:  # inside a pydantic model, which adds the field name itself
            raise ValueError(message)
        raise BadRequest(f"Invalid value for field '{field}': {message}", field=field)
    return utc


def check_filter_key(key: str, field: str) -> str:
    if not isinstance(key, str) or not _FILTER_KEY.match(key):
        raise BadRequest(f"Invalid key in {field}: {str(key)[:64]!r} (1-128 characters, no quotes, backslashes "
                         "or control characters)", field=field)
    return key


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
