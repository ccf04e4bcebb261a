"""ETag and If-Match on memories: the ETag is the record's version, so a client can read, change and write
back only if nobody changed the memory in between (412 otherwise)."""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from mem0_service.core.memory import Memory
from mem0_service.errors import BadRequest, PreconditionFailed

IF_MATCH: Final = "If-Match"  # Final: a field alias must be a literal
ANY = "*"
_TAG = re.compile(r'\s*(W/)?"v(\d{1,18})"\s*')


class PreconditionHeaders(BaseModel):
    """Request headers of a conditional write (OpenAPI only: the handler reads them with if_match())."""

    model_config = ConfigDict(populate_by_name=True)
    if_match: str | None = Field(None, alias=IF_MATCH, description='Write only if the memory still has this ETag '
                                 '(from GET or PUT; several may be listed), or "*" for any version: 412 otherwise')


def etag(memory: Memory) -> str:
    return f'"v{memory.version}"'


def if_match(request: web.Request) -> set[int] | None:
    """The versions If-Match admits; None without the header or with `*` (any existing version)."""
    given = request.headers.getall(IF_MATCH, [])
    # Several If-Match fields mean the same as one listing all of their tags (RFC 9110, section 5.3).
    raw = ", ".join(given) if given else None
    if raw is None or raw.strip() == ANY:
        return None
    versions: set[int] = set()
    for part in raw.split(","):
        found = _TAG.fullmatch(part)
        if found is None:
            raise BadRequest(f"{IF_MATCH} must be * or ETags as sent in the ETag header, e.g. \"v3\"", field=IF_MATCH)
        if not found.group(1):  # If-Match compares strongly: a weak tag never matches
            versions.add(int(found.group(2)))
    return versions


def expected_version(admitted: set[int] | None, current: Memory) -> int | None:
    """The version to compare-and-set against: the current one if If-Match admits it (the store then checks
    that it did not change since it was read); 412 if it does not."""
    if admitted is None:
        return None
    if current.version not in admitted:
        raise PreconditionFailed(f"Memory {current.id} has ETag {etag(current)}, which {IF_MATCH} does not name: "
                                 "it changed since it was read", field=IF_MATCH)
    return current.version
