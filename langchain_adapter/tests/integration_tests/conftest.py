"""Fixtures for tests against a real service (``live_service`` is the repo's shared fixture)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from mem0_langchain import Mem0Client


@pytest.fixture
def mem0(live_service: Any) -> Iterator[Mem0Client]:
    """A client of the shared live service."""
    with Mem0Client(live_service.url, api_key=live_service.api_key) as client:
        yield client


@pytest.fixture
def user_id() -> str:
    """A user no other test touches (the live service is shared by the whole run)."""
    return f"lc-{secrets.token_hex(6)}"
