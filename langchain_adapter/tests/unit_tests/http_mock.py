"""Canned HTTP answers for the clients' httpx transport, registered like ``responses`` does for
``requests``: ``mocked.post(url, json=..., status=..., match=[...])``, then ``mocked.calls``.

Every request of a test goes through the patched transport; one that no registration matches
fails the test, and so does a registration that no request used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import httpx

GET, POST, PUT, DELETE = "GET", "POST", "PUT", "DELETE"

Matcher = Callable[["SentRequest"], tuple[bool, str]]


@dataclass
class SentRequest:
    """What a client sent, shaped for assertions (``body`` is None when there was none)."""

    method: str
    url: str
    path_url: str
    body: bytes | None
    headers: httpx.Headers
    params: dict[str, str]
    timeout: dict[str, float | None]

    @classmethod
    def of(cls, request: httpx.Request) -> SentRequest:
        content = request.read()
        return cls(
            method=request.method,
            url=str(request.url),
            path_url=request.url.raw_path.decode("ascii"),
            body=content or None,
            headers=request.headers,
            params=dict(request.url.params),
            timeout=dict(request.extensions.get("timeout", {})),
        )


@dataclass
class Call:
    request: SentRequest
    response: httpx.Response


@dataclass
class _Registration:
    method: str
    url: str
    answer: Callable[[SentRequest], httpx.Response]
    match: list[Matcher] = field(default_factory=list)
    used: bool = False

    def accepts(self, sent: SentRequest) -> bool:
        if sent.method != self.method or sent.url.split("?", 1)[0] != self.url.split("?", 1)[0]:
            return False
        return all(matcher(sent)[0] for matcher in self.match)


def _static(
    status: int, body: Any, json_body: Any, headers: dict[str, str] | None
) -> Callable[[SentRequest], httpx.Response]:
    def answer(sent: SentRequest) -> httpx.Response:
        if isinstance(body, BaseException):
            raise body
        if json_body is not None:
            return httpx.Response(status, json=json_body, headers=headers)
        content = body.encode() if isinstance(body, str) else (body or b"")
        return httpx.Response(status, content=content, headers=headers)

    return answer


class RequestsMock:
    """The registry of canned answers; use as a context manager (or the ``mocked`` fixture)."""

    def __init__(self, assert_all_requests_are_fired: bool = True) -> None:
        self.assert_all_requests_are_fired = assert_all_requests_are_fired
        self.calls: list[Call] = []
        self._registry: list[_Registration] = []

    def add(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        body: Any = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        match: list[Matcher] | tuple[Matcher, ...] = (),
    ) -> None:
        if content_type is not None:
            headers = {**(headers or {}), "Content-Type": content_type}
        answer = _static(status, body, json, headers)
        self._registry.append(_Registration(method, url, answer, list(match)))

    def get(self, url: str, **kwargs: Any) -> None:
        self.add(GET, url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> None:
        self.add(POST, url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> None:
        self.add(PUT, url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> None:
        self.add(DELETE, url, **kwargs)

    def add_callback(
        self,
        method: str,
        url: str,
        callback: Callable[[SentRequest], tuple[int, dict[str, str], str | bytes]],
    ) -> None:
        def answer(sent: SentRequest) -> httpx.Response:
            status, headers, body = callback(sent)
            return httpx.Response(status, headers=headers, content=body)

        self._registry.append(_Registration(method, url, answer))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        sent = SentRequest.of(request)
        found = [r for r in self._registry if r.accepts(sent)]
        if not found:
            raise AssertionError(f"no canned answer for {sent.method} {sent.url}")
        registration = found[0]
        if len(found) > 1:  # several answers for one URL: used in turn, the last one repeats
            self._registry.remove(registration)
        registration.used = True
        try:
            response = registration.answer(sent)
        except BaseException:
            self.calls.append(Call(sent, httpx.Response(599)))
            raise
        response.request = request
        self.calls.append(Call(sent, response))
        return response

    @contextmanager
    def _patched(self) -> Iterator[RequestsMock]:
        def sync_send(transport: Any, request: httpx.Request) -> httpx.Response:
            return self._handle(request)

        async def async_send(transport: Any, request: httpx.Request) -> httpx.Response:
            return self._handle(request)

        with (
            mock.patch.object(httpx.HTTPTransport, "handle_request", sync_send),
            mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", async_send),
        ):
            yield self

    def __enter__(self) -> RequestsMock:
        self._context = self._patched()
        return self._context.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._context.__exit__(*exc_info)
        if exc_info[0] is None and self.assert_all_requests_are_fired:
            unused = [f"{r.method} {r.url}" for r in self._registry if not r.used]
            assert not unused, f"canned answers never requested: {unused}"


class matchers:  # read like the responses library's module of the same name
    """Conditions a request must meet for a canned answer to apply."""

    @staticmethod
    def json_params_matcher(params: Any, *, strict_match: bool = True) -> Matcher:
        def match(sent: SentRequest) -> tuple[bool, str]:
            body = json.loads(sent.body) if sent.body else None
            if strict_match or not isinstance(params, dict) or not isinstance(body, dict):
                return body == params, f"body {body!r} is not {params!r}"
            missing = {k: v for k, v in params.items() if body.get(k) != v}
            return not missing, f"body lacks {missing!r}"

        return match

    @staticmethod
    def header_matcher(headers: dict[str, str], *, strict_match: bool = False) -> Matcher:
        def match(sent: SentRequest) -> tuple[bool, str]:
            wrong = {k: v for k, v in headers.items() if sent.headers.get(k) != v}
            return not wrong, f"headers differ: {wrong!r}"

        return match

    @staticmethod
    def query_param_matcher(params: dict[str, Any], *, strict_match: bool = True) -> Matcher:
        expected = {k: v if isinstance(v, str) else str(v) for k, v in params.items()}

        def match(sent: SentRequest) -> tuple[bool, str]:
            if strict_match:
                return sent.params == expected, f"query {sent.params!r} is not {expected!r}"
            wrong = {k: v for k, v in expected.items() if sent.params.get(k) != v}
            return not wrong, f"query differs: {wrong!r}"

        return match
