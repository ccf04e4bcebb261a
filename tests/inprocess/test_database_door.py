"""One door to the database: the record store owns every connection and query of its database, the scoped keys
and the entity listing included."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from mem0_service.app import create_app
from tests.inprocess.conftest import InProcessApi, backend_settings


def _open_handles(path: Path) -> int:
    """How many file descriptors of this process are open on `path` (each SQLite connection holds one)."""
    target, count = str(path.resolve()), 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # a descriptor closed while listing
            count += os.readlink(f"/proc/self/fd/{fd}") == target
    return count


async def test_the_sqlite_file_has_one_connection_owner(aiohttp_client, tmp_path):
    with backend_settings("sqlite", tmp_path) as settings:
        client = await aiohttp_client(create_app(settings, background=False))
        api = InProcessApi(client, settings.api_keys[0])
        secret = await api.key(user_id="owner", name="reader")  # the key table is written ...
        await api.create("owner", "The owner's printer is an Epson")
        status, body = await api.call("GET", "/api/memories/user/owner", key=secret)  # ... and read to authenticate
        assert status == 200 and body["total"] == 1
        status, listed = await api.call("GET", "/api/keys")
        assert status == 200 and [k["name"] for k in listed["keys"]] == ["reader"]
        assert _open_handles(tmp_path / "memories.sqlite3") == 1


async def test_entities_are_counted_per_owner_by_the_store(api):
    for content, fields in [("Likes green tea", {"agent_id": "barista", "session_id": "morning"}),
                            ("Orders a croissant", {"agent_id": "barista", "session_id": "evening"}),
                            ("Reads in the garden", {"metadata": {"app_id": "garden-app"}}),
                            ("Has a cat", {"metadata": {"app_id": 7}})]:  # not a name: no app entity
        await api.create("ent-user", content, **fields)
    await api.create("ent-other", "Plays chess", agent_id="barista")
    status, body = await api.call("GET", "/v1/entities/")
    assert status == 200, body
    counted = {(e["type"], e["name"]): e["total_memories"] for e in body["results"]}
    assert counted == {("user", "ent-user"): 4, ("user", "ent-other"): 1, ("agent", "barista"): 3,
                       ("run", "morning"): 1, ("run", "evening"): 1, ("app", "garden-app"): 1}
    assert body["count"] == len(body["results"])
    secret = await api.key(user_id="ent-other")
    status, body = await api.call("GET", "/v1/entities/", key=secret)
    assert status == 200
    assert {(e["type"], e["name"]): e["total_memories"] for e in body["results"]} == \
        {("user", "ent-other"): 1, ("agent", "barista"): 1}
