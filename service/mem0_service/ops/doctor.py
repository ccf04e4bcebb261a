"""`doctor`: checks the configuration and every dependency, and says what is wrong in plain words."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from mem0_service.backends import make_embedder
from mem0_service.config import Settings
from mem0_service.core.ports import StoreUnreachable
from mem0_service.errors import ConfigError

SCHEMA_CURRENT = "schema up to date"
PLACEHOLDER_KEYS = {"ваш_случайный_ключ", "your_mem0_api_key", "YOUR_MEM0_API_KEY", "changeme", "change-me"}


@dataclass
class Finding:
    status: str  # ok | warn | fail
    topic: str
    text: str


async def run(env: dict[str, str] | None = None, timeout: float = 10.0) -> list[Finding]:
    findings: list[Finding] = []
    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        return [Finding("fail", "configuration", str(exc))]
    findings.append(Finding("ok", "configuration", "environment variables are valid"))
    findings.append(_admin_keys(settings))
    findings.append(_data_dir(settings))
    findings.append(await _guard("record store", _record_store(settings), timeout))
    if findings[-1].text.endswith(SCHEMA_CURRENT):  # reading it must neither create nor migrate the store
        findings.append(await _guard("index quarantine", _quarantine(settings), timeout))
        findings.append(await _guard("job queue", _job_queue(settings), timeout))
    embedder_finding, embedder = await _embedder(settings, timeout)
    findings.append(await _guard("vector index", _vector_index(settings, embedder), timeout))
    findings.append(embedder_finding)
    if embedder is not None:
        await embedder.close()
    return findings


async def _guard(topic: str, check, timeout: float) -> Finding:
    try:
        return await asyncio.wait_for(check, timeout)
    except asyncio.TimeoutError:
        return Finding("fail", topic, f"no answer within {timeout:g} seconds")
    except Exception as exc:
        return Finding("fail", topic, f"{type(exc).__name__}: {str(exc).strip()[:300]}")


def _admin_keys(settings: Settings) -> Finding:
    if not settings.api_keys:
        key_file = settings.data_dir / "api_key"
        where = f"kept in {key_file}" if key_file.exists() else f"will be generated into {key_file} on first start"
        return Finding("warn", "admin key", f"MEM0_API_KEY is not set: the key is {where}. Set MEM0_API_KEY "
                                            "(e.g. `openssl rand -hex 32`) so every client knows it")
    weak = [k for k in settings.api_keys if len(k) < 16 or k in PLACEHOLDER_KEYS]
    if weak:
        return Finding("warn", "admin key", f"{len(weak)} admin key(s) are short or the guide's placeholder: "
                                            "use at least 16 random characters")
    return Finding("ok", "admin key", f"{len(settings.api_keys)} admin key(s) configured")


def _data_dir(settings: Settings) -> Finding:
    path = settings.data_dir.resolve()
    probe = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
    if not os.access(probe, os.W_OK):
        return Finding("fail", "data directory", f"{path} is not writable by this user (uid {os.getuid()})")
    return Finding("ok", "data directory", f"{path} is writable")


async def _record_store(settings: Settings) -> Finding:
    from mem0_service.backends import make_store

    try:
        seen = await make_store(settings).inspect()
    except StoreUnreachable as exc:
        return Finding("fail", "record store", f"{exc}. Is it running, and are host, port, user and password in "
                                               "DATABASE_URL right?")
    if seen.server is not None:
        return _schema(f"PostgreSQL {seen.server} at {seen.where} answers", set(seen.versions), "postgres")
    if not seen.exists:
        return Finding("ok", "record store", f"SQLite file {seen.where} does not exist yet: it is created on first start")
    if seen.damage is not None:
        return Finding("fail", "record store", f"SQLite file {seen.where} is damaged: {seen.damage}. Restore a backup")
    return _schema(f"SQLite file {seen.where} is readable", set(seen.versions), "sqlite")


async def _quarantine(settings: Settings) -> Finding:
    """Memories whose index work failed for them alone: searches miss them until they are retried or dropped."""
    from mem0_service.ops.quarantine import NAMED, record_store, summary

    async with record_store(settings) as store:
        entries = await store.quarantined(NAMED)
        total = await store.count_quarantined()
    if not total:
        return Finding("ok", "index quarantine", "empty: every memory's index work could be applied")
    return Finding("fail", "index quarantine", summary(entries, total))


async def _job_queue(settings: Settings) -> Finding:
    """Background jobs that gave up: their conversations were not learned from."""
    from mem0_service.ops.quarantine import record_store

    async with record_store(settings) as store:
        stats = await store.job_stats()
    waiting = f"{stats.queued} queued, {stats.running} running"
    if not stats.failed:
        return Finding("ok", "job queue", f"{waiting}; no dead letters")
    return Finding("warn", "job queue", f"{waiting}; {stats.failed} dead letter(s): jobs that gave up, the cause at "
                                        "GET /api/events/{id} (a growing count means the chat model keeps failing)")


def _schema(prefix: str, versions: set[int], dialect: str) -> Finding:
    from mem0_service.stores.base import migrations

    missing = [v for v, _ in migrations(dialect) if v not in versions]
    if missing:
        return Finding("warn", "record store", f"{prefix}; {len(missing)} migration(s) not applied yet "
                                               f"({', '.join(map(str, missing))}): run `mem0-service migrate` "
                                               "or start the service")
    return Finding("ok", "record store", f"{prefix}; {SCHEMA_CURRENT}")


async def _embedder(settings: Settings, timeout: float):
    try:
        embedder = make_embedder(settings)
    except Exception as exc:
        return Finding("fail", "embedder", f"cannot be configured: {exc}"), None
    label = f"{embedder.name}" + (f" via {settings.openai_base_url}" if settings.embedder == "openai" and
                                   settings.openai_base_url else "")
    try:
        await asyncio.wait_for(embedder.open(), timeout * 3)
        vector = await asyncio.wait_for(embedder.embed_one("doctor check"), timeout)
    except asyncio.TimeoutError:
        return Finding("fail", "embedder", f"{label} did not answer within {timeout:g} seconds"), embedder
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        hint = ""
        if "401" in message:
            hint = " The API key was rejected: check OPENAI_API_KEY."
        elif "Connection" in message or "connect" in message.lower():
            hint = " The provider cannot be reached: check OPENAI_BASE_URL and the network."
        return Finding("fail", "embedder", f"{label}: {message[:300]}.{hint}"), embedder
    return Finding("ok", "embedder", f"{label} answers with {len(vector)}-d vectors"), embedder


async def _vector_index(settings: Settings, embedder) -> Finding:
    if embedder is None or not embedder.dim:
        return Finding("warn", "vector index", "not checked: the embedder's dimension is unknown")
    if settings.vector_index == "qdrant" and settings.qdrant_url:
        from qdrant_client import AsyncQdrantClient

        from mem0_service.vectors.qdrant import collection_name

        client = AsyncQdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=5)
        name = collection_name("mem0", embedder.name, embedder.dim)
        try:
            exists = await client.collection_exists(name)
            if exists:
                info = await client.get_collection(name)
                size = info.config.params.vectors.size  # type: ignore[union-attr]
                if size != embedder.dim:
                    return Finding("fail", "vector index", f"Qdrant collection {name} holds {size}-d vectors but the "
                                                           f"embedder makes {embedder.dim}-d: run `reembed`")
        except Exception as exc:
            text = str(exc).strip()[:200] or type(exc).__name__
            hint = " (QDRANT_API_KEY rejected)" if "401" in text or "403" in text else ""
            return Finding("fail", "vector index", f"Qdrant at {settings.qdrant_url} is not reachable{hint}: {text}")
        finally:
            await client.close()
        state = "exists" if exists else "will be created on first start"
        return Finding("ok", "vector index", f"Qdrant at {settings.qdrant_url} answers; collection {name} {state}")
    if settings.vector_index == "qdrant":
        path = settings.data_dir / "qdrant"
        return Finding("ok", "vector index", f"Qdrant local mode in {path} (one process at a time: the running "
                                             "service holds it)")
    path = settings.data_dir / f"vectors-{embedder.name}-{embedder.dim}.sqlite3"
    others = sorted(p.name for p in settings.data_dir.glob("vectors-*.sqlite3") if p != path) \
        if settings.data_dir.exists() else []
    note = f" (other models' indexes present: {', '.join(others)})" if others else ""
    if not path.exists():
        return Finding("ok", "vector index", f"embedded index {path} is created on first start{note}")
    return Finding("ok", "vector index", f"embedded index {path} is present{note}")
