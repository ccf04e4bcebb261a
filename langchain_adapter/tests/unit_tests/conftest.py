"""Fixtures for the unit tests: every HTTP request gets a canned answer (see http_mock)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import http_mock
import pytest
import pytest_socket

from mem0_langchain import Mem0Client

BASE = "http://mem0.test"
KEY = "test-key-123"


def _memory_json(**overrides: Any) -> dict[str, Any]:
    """A memory object as the service returns it."""
    data: dict[str, Any] = {
        "id": "mem_1",
        "user_id": "user123",
        "content": "Prefers email notifications",
        "type": "preference",
        "session_id": None,
        "agent_id": None,
        "metadata": {},
        "created_at": "2025-05-18T10:30:05Z",
        "updated_at": "2025-05-18T10:30:05Z",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    """Unit tests never reach a network: any socket but the event loop's own fails the test."""
    pytest_socket.disable_socket(allow_unix_socket=True)
    yield
    pytest_socket.enable_socket()


@pytest.fixture
def memory_json() -> Any:
    """Factory of memory objects shaped like the service's answers."""
    return _memory_json


@pytest.fixture
def mocked() -> Iterator[http_mock.RequestsMock]:
    """Strict mock: unregistered requests fail and every registered one must be sent."""
    with http_mock.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def client() -> Iterator[Mem0Client]:
    with Mem0Client(BASE, api_key=KEY, backoff_factor=0, max_retries=2) as mem0:
        yield mem0
