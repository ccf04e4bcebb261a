"""The request boundary in front of every route: one reading of the query, ids and headers that a store can take,
and the service's JSON error shape also for requests aiohttp's HTTP parser refuses before any route runs."""

from __future__ import annotations

import functools
import json
from http import HTTPStatus

from aiohttp import hdrs, web
from aiohttp.web_protocol import ERROR as PARSER_ERROR

from mem0_service.api import values
from mem0_service.api.parsing import query_values
from mem0_service.errors import BadRequest

# Headers whose value reaches a store; a byte that is not UTF-8 arrives as a lone surrogate.
CHECKED_HEADERS = ("Idempotency-Key",)
# Headers read as one value: given twice, a proxy in front and the service could each act on a different one.
SINGLE_VALUED_HEADERS = ("Authorization", "Idempotency-Key")


@web.middleware
async def boundary_middleware(request: web.Request, handler) -> web.StreamResponse:
    query_values(request)  # a parameter given twice would be read one way by the key's guard, another by the handler
    for name, value in (request.match_info or {}).items():
        values.check_string(value, name)
    for name in SINGLE_VALUED_HEADERS:
        if len(request.headers.getall(name, [])) > 1:
            raise BadRequest(f"The {name} header is given more than once", field=name)
    for name in CHECKED_HEADERS:
        for value in request.headers.getall(name, []):
            if values.string_problem(value):
                raise BadRequest(f"Invalid value for header '{name}': must be UTF-8 text without NUL", field=name)
    return await handler(request)


class _ParserErrorRequest(web.Request):
    """aiohttp answers requests its parser refuses (a header too long, NUL in a header, a bad request line) with
    text of its own, outside the middlewares; the request it builds for them rewrites that text as JSON."""

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        await super()._prepare_hook(response)
        if self._message is not PARSER_ERROR or not isinstance(response, web.Response) or response.status < 400:
            return
        status = HTTPStatus(response.status)
        # aiohttp's message is a line, then the offending bytes with a caret under them: the line says it.
        message = ((response.text or "").strip().splitlines() or [status.phrase])[0].rstrip(":")
        if status >= 500:
            message = "Unexpected server error"  # aiohttp may put a traceback here in debug mode
        body = json.dumps({"error": status.phrase, "message": message}, ensure_ascii=False).encode()
        response.body = body
        response.headers[hdrs.CONTENT_TYPE] = "application/json; charset=utf-8"
        response.headers[hdrs.CONTENT_LENGTH] = str(len(body))


def answer_parser_errors_in_json(app: web.Application) -> None:
    # Application._make_request takes the request class as `_cls` for exactly this kind of specialisation.
    app._make_request = functools.partial(app._make_request, _cls=_ParserErrorRequest)  # type: ignore[method-assign]
