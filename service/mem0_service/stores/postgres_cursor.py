"""The cursor PostgresRecordStore's parts share: its transaction type, and reading a row that is always there."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from psycopg import AsyncCursor
from psycopg.rows import TupleRow

# PostgresRecordStore._tx: one transaction, yielding a cursor; the mixins declare it so they can use it.
Transaction = Callable[[], AbstractAsyncContextManager[AsyncCursor[TupleRow]]]


async def single_row(cur: AsyncCursor[TupleRow]) -> TupleRow:
    """The row of a statement that always returns one: an aggregate, or an upsert's RETURNING."""
    row = await cur.fetchone()
    if row is None:
        raise RuntimeError("a statement that always returns a row returned none")
    return row
