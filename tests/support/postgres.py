"""A fresh PostgreSQL database per test run on the machine's server (never mocked)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

ADMIN_URL = os.environ.get("MEM0_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def server_url(database: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@contextmanager
def fresh_database(prefix: str = "mem0_test") -> Iterator[str]:
    """Create an empty database and drop it afterwards. Fails loudly when PostgreSQL is not running."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
