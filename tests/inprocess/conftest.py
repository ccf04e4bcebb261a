"""The fast tier: the application built in this process (`create_app(settings)`) behind aiohttp's test server,
on both backends. No subprocess, no port of its own; what needs a real process (kill -9, workers, the CLI, n8n,
Flowise) stays in the other suites."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mem0_service.app import create_app
from mem0_service.config import Settings
from tests.support.postgres import fresh_database

BACKENDS = ("sqlite", "postgres-qdrant")


class InProcessApi:
    """The service's HTTP API as a test calls it: JSON in, (status, JSON) out, the admin key unless told."""

    def __init__(self, client: TestClient, admin_key: str):
        self.client, self.admin_key = client, admin_key

    async def call(self, method: str, path: str, *, key: str | None = None, auth: bool = True,
                   **kwargs: Any) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            headers.setdefault("Authorization", f"Bearer {key or self.admin_key}")
        async with self.client.request(method, path, headers=headers, **kwargs) as response:
            body = await response.read()
            if method == "HEAD" or not body:
                return response.status, None
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, body.decode()

    async def create(self, user_id: str, content: str, **fields: Any) -> dict[str, Any]:
        status, body = await self.call("POST", "/api/memories", json={"user_id": user_id, "content": content, **fields})
        assert status in (200, 201), body
        return body

    async def key(self, **fields: Any) -> str:
        status, body = await self.call("POST", "/api/keys", json=fields)
        assert status == 201, body
        return body["key"]


@contextlib.contextmanager
def backend_settings(backend: str, data_dir: Path, **overrides: Any):
    with contextlib.ExitStack() as stack:
        values: dict[str, Any] = {"api_keys": ["admin-" + secrets.token_hex(8)], "data_dir": data_dir}
        if backend == "postgres-qdrant":
            values.update(database_url=stack.enter_context(fresh_database()), vector_index="qdrant")
        yield Settings(**{**values, **overrides})


@pytest.fixture(params=BACKENDS)
async def api(request: pytest.FixtureRequest, aiohttp_client, tmp_path: Path) -> AsyncIterator[InProcessApi]:
    with backend_settings(request.param, tmp_path) as settings:
        client = await aiohttp_client(create_app(settings, background=False))
        yield InProcessApi(client, settings.api_keys[0])
