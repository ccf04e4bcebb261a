"""How every LangChain class of this package is told where the service is.

Each class takes either a ready ``client`` or the ``base_url`` / ``api_key`` / ``timeout`` to
build one (the environment fills in what is not given), accepts the guide's camelCase spellings
(``baseUrl``, ``apiKey``, ``userId``, ``sessionId``, ``agentId``) and refuses any other keyword
argument by name, so a typo never silently falls back to ``http://localhost:3456``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ._api import Timeout
from .async_client import AsyncMem0Client
from .client import Mem0Client

CAMEL_CASE = {
    "baseUrl": "base_url",
    "apiKey": "api_key",
    "userId": "user_id",
    "sessionId": "session_id",
    "agentId": "agent_id",
}
CONNECTION_ARGS = ("base_url", "api_key", "timeout")


def normalize_kwargs(
    owner: str, values: Mapping[str, Any], accepted: Iterable[str]
) -> dict[str, Any]:
    """``values`` with camelCase names spelled the Python way; raises ``TypeError`` naming every
    argument ``owner`` does not take (with the closest accepted name when there is one)."""
    known = set(accepted) | set(CONNECTION_ARGS)
    result: dict[str, Any] = {}
    for name, value in values.items():
        python_name = CAMEL_CASE.get(name, name)
        if python_name in result:
            raise TypeError(f"{owner} got {python_name!r} twice (once as {name!r})")
        result[python_name] = value
    unknown = sorted(name for name in result if name not in known)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise TypeError(f"{owner} got unexpected keyword argument(s): {', '.join(hints)}")
    return result


def split_connection(owner: str, values: dict[str, Any]) -> dict[str, Any]:
    """Pop ``base_url`` / ``api_key`` / ``timeout`` from ``values`` (refusing them next to a
    ready ``client``, whose own settings would win)."""
    given = {name: values.pop(name) for name in CONNECTION_ARGS if values.get(name) is not None}
    for name in CONNECTION_ARGS:
        values.pop(name, None)
    if given and values.get("client") is not None:
        raise TypeError(
            f"{owner} got both a client and {', '.join(sorted(given))}: "
            "pass the connection settings to the client, or leave the client out"
        )
    return given


def make_client(
    base_url: str | None = None, api_key: str | None = None, timeout: Timeout | None = None
) -> Mem0Client:
    """A sync client (the environment fills in what is None)."""
    return Mem0Client(base_url, api_key, timeout=timeout)


def make_async_client(
    base_url: str | None = None, api_key: str | None = None, timeout: Timeout | None = None
) -> AsyncMem0Client:
    """An async client with the same settings."""
    return AsyncMem0Client(base_url, api_key, timeout=timeout)


class ConnectionArgsMixin:
    """For the pydantic-based classes (memory, retriever, tools): the checks above, before the
    model's own validation."""

    @classmethod
    def _accepted_names(cls) -> set[str]:
        fields = cls.model_fields  # type: ignore[attr-defined]
        names = set(fields)
        names.update(f.alias for f in fields.values() if f.alias)
        return names

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values = normalize_kwargs(cls.__name__, data, cls._accepted_names())
        connection = split_connection(cls.__name__, values)
        if values.get("client") is None:
            values["client"] = make_client(
                connection.get("base_url"), connection.get("api_key"), connection.get("timeout")
            )
        return values
