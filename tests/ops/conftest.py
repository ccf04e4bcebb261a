"""Backend environments for the operations tests: each test gets empty stores of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.support.postgres import fresh_database

BACKENDS = ["sqlite", "postgres-qdrant"]


@pytest.fixture
def new_backend() -> Iterator[Callable[[str], dict[str, str]]]:
    """new_backend(kind) -> the env of a fresh, empty store of that kind (a new PostgreSQL database each time)."""
    with contextlib.ExitStack() as stack:
        def make(kind: str) -> dict[str, str]:
            if kind == "sqlite":
                return {}
            return {"DATABASE_URL": stack.enter_context(fresh_database("mem0_ops")), "MEM0_VECTOR_INDEX": "qdrant"}
        yield make
