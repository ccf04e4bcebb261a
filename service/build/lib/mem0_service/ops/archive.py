"""Backups: one archive holding the records, their vectors and a manifest; restores that check it first.

Layout of a backup (a gzip'd tar):
  manifest.json   format, service version, backend, embedding model and dimension, counts and SHA-256 of members
  memories.jsonl  every memory, one JSON object per line, in id order
  vectors.jsonl   {"id", "vector" (base64 little-endian float32)} for memories whose vector is known to match
  history.jsonl   every history event, deleted memories' included, by memory id and then in order (format 2)
  keys.jsonl      every scoped key, revoked ones included, with the SHA-256 of its secret, never the secret (format 2)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from mem0_service import __version__
from mem0_service.config import Settings
from mem0_service.core.memory import Memory, utcnow
from mem0_service.errors import ServiceUnavailable
from mem0_service.ops.progress import bar
from mem0_service.ops.records import (
    BadRecord,
    history_from_json,
    history_line,
    key_from_json,
    key_line,
    memory_from_json,
    memory_line,
)
from mem0_service.ops.snapshot import open_snapshot
from mem0_service.stores.base import iso

FORMAT = "mem0-backup"
FORMAT_VERSION = 2
READABLE_VERSIONS = {1: ("memories", "vectors"), 2: ("memories", "vectors", "history", "keys")}  # members per format
MEMBERS = ("manifest.json", "memories.jsonl", "vectors.jsonl", "history.jsonl", "keys.jsonl")
BATCH = 500


class BackupError(Exception):
    """The archive cannot be used: wrong format, damaged, or made with another embedding model."""


class ModelMismatch(BackupError):
    pass


@dataclass
class BackupResult:
    path: Path
    memories: int
    vectors: int
    history: int = 0
    keys: int = 0
    vectors_note: str | None = None


@dataclass
class RestoreResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    vectors_reused: int = 0
    embedded: int = 0
    history: int = 0
    keys: int = 0
    notes: list[str] = field(default_factory=list)


class _HashingWriter:
    def __init__(self, path: Path):
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.digest = hashlib.sha256()
        self.lines = 0

    def write(self, text: str) -> None:
        self.file.write(text)
        self.digest.update(text.encode())
        self.lines += 1

    def close(self) -> None:
        self.file.close()


def embedder_identity(settings: Settings) -> tuple[str, int, object]:
    """(model name, dimension, embedder not yet opened) without loading a model when the settings say enough."""
    from mem0_service.backends import make_embedder

    embedder = make_embedder(settings)
    return embedder.name, int(embedder.dim or 0), embedder


async def _open_index(settings: Settings, embedder):
    from mem0_service.backends import make_index

    if not embedder.dim:
        await embedder.open()  # an unknown model on a compatible server: ask it for its dimension
    index = make_index(settings, embedder)
    await index.open()
    return index


def encode_vector(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def decode_vector(text: str, dim: int) -> np.ndarray:
    vector = np.frombuffer(base64.b64decode(text), dtype="<f4")
    if vector.shape != (dim,):
        raise BackupError(f"a vector in the archive has {vector.size} dimensions, the manifest says {dim}")
    return vector.astype(np.float32)


async def backup(settings: Settings, output: Path, *, progress: bool | None = None) -> BackupResult:
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    model, dim, embedder = embedder_identity(settings)
    with tempfile.TemporaryDirectory(prefix="mem0-backup-", dir=output.parent) as tmp:
        work = Path(tmp)
        records = _HashingWriter(work / "memories.jsonl")
        with open_snapshot(settings) as snapshot:
            total = snapshot.count()
            pending = snapshot.pending_ids()
            ids_and_stamps: list[tuple[str, object]] = []
            with bar(total, "records", progress) as shown:
                for batch in snapshot.batches(BATCH):
                    for memory in batch:
                        records.write(memory_line(memory))
                        ids_and_stamps.append((memory.id, memory.updated_at))
                    shown.update(len(batch))
            records.close()
            history = _HashingWriter(work / "history.jsonl")
            for events in snapshot.history_batches(BATCH * 4):
                for user_id, event in events:
                    history.write(history_line(user_id, event))
            history.close()
            keys = _HashingWriter(work / "keys.jsonl")
            for key, digest in snapshot.scoped_keys():
                keys.write(key_line(key, digest))
            keys.close()
            vectors, note = await _backup_vectors(settings, embedder, ids_and_stamps, pending, snapshot,
                                                  work / "vectors.jsonl", progress)
        if dim == 0:
            dim = int(getattr(embedder, "dim", 0) or 0)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": iso(utcnow()),
            "service_version": __version__, "records_backend": snapshot.backend,
            "embedding": {"model": model, "dimension": dim},
            "memories": {"file": "memories.jsonl", "count": records.lines, "sha256": records.digest.hexdigest()},
            "vectors": {"file": "vectors.jsonl", "count": vectors.lines, "sha256": vectors.digest.hexdigest(),
                        "note": note},
            "history": {"file": "history.jsonl", "count": history.lines, "sha256": history.digest.hexdigest()},
            "keys": {"file": "keys.jsonl", "count": keys.lines, "sha256": keys.digest.hexdigest()},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for name in MEMBERS:
                tar.add(work / name, arcname=name)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, output)  # an interrupted backup never leaves a file that looks complete
    return BackupResult(output, records.lines, vectors.lines, history.lines, keys.lines, note)


async def _backup_vectors(settings, embedder, ids_and_stamps, pending, snapshot, path: Path, progress):
    """Vectors for the snapshot's memories, only where they are known to match the snapshot's content:
    not for memories with index work pending, nor for those changed or deleted while the backup ran."""
    writer = _HashingWriter(path)
    try:
        index = await _open_index(settings, embedder)
    except Exception as exc:
        writer.close()
        return writer, (f"vectors not included ({str(exc).splitlines()[0][:200]}); restore re-embeds them")
    skipped = 0
    try:
        with bar(len(ids_and_stamps), "vectors", progress) as shown:
            for start in range(0, len(ids_and_stamps), BATCH):
                chunk = ids_and_stamps[start:start + BATCH]
                wanted = [i for i, _ in chunk if i not in pending]
                found = await index.fetch_vectors(wanted)
                live = snapshot.live_updated_at(list(found))
                for memory_id, stamp in chunk:
                    if memory_id in found and live.get(memory_id) == stamp:
                        writer.write(json.dumps({"id": memory_id, "vector": encode_vector(found[memory_id])}) + "\n")
                    else:
                        skipped += 1
                shown.update(len(chunk))
    finally:
        writer.close()
        await index.close()
    note = f"{skipped} memories without a settled vector are re-embedded on restore" if skipped else None
    return writer, note


# -- restore ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def open_archive(path: Path) -> Iterator[tuple[dict, Path]]:
    """Unpack into a temporary folder and verify every member against the manifest before anything is written."""
    if not path.exists():
        raise BackupError(f"No backup at {path}")
    with tempfile.TemporaryDirectory(prefix="mem0-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar.getmembers():
                    if member.name not in MEMBERS:
                        continue
                    if not member.isfile():
                        raise BackupError(f"{path}: {member.name} is not a regular file")
                    source = tar.extractfile(member)
                    assert source is not None
                    with open(work / member.name, "wb") as target:
                        while chunk := source.read(1 << 20):
                            target.write(chunk)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(f"{path} is damaged or not a backup archive: {exc}") from None
        if not (work / "manifest.json").exists():
            raise BackupError(f"{path} is not a mem0 backup: manifest.json is missing")
        try:
            manifest = json.loads((work / "manifest.json").read_text())
        except ValueError as exc:
            raise BackupError(f"manifest.json is not valid JSON: {exc}") from None
        parts = READABLE_VERSIONS.get(manifest.get("format_version")) if manifest.get("format") == FORMAT else None
        if parts is None:
            raise BackupError(f"unsupported backup format {manifest.get('format')!r} "
                              f"version {manifest.get('format_version')!r}")
        for part in parts:
            member = work / f"{part}.jsonl"
            if not member.exists():
                raise BackupError(f"{path} is not a complete mem0 backup: {member.name} is missing")
            info = manifest.get(part) or {}
            digest, lines = hashlib.sha256(), 0
            with open(member, "rb") as f:
                for line in f:
                    digest.update(line)
                    lines += 1
            if digest.hexdigest() != info.get("sha256") or lines != info.get("count"):
                raise BackupError(f"{part}.jsonl does not match the manifest (damaged or edited archive): "
                                  f"{lines} lines, manifest says {info.get('count')}")
        yield manifest, work


def _lines(handle: IO[str]) -> Iterator[dict]:
    for number, line in enumerate(handle, 1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise BackupError(f"line {number}: {exc}") from None


async def restore(settings: Settings, archive: Path, *, reembed: bool = False,
                  progress: bool | None = None) -> RestoreResult:
    """Write the archive's memories into the configured store (new ids inserted, existing ones brought back to
    the archived version), then their vectors; memories without a usable vector are embedded."""
    from mem0_service.backends import open_backends

    with open_archive(archive) as (manifest, work):
        model, dim, _ = embedder_identity(settings)
        archived = manifest.get("embedding") or {}
        same_model = archived.get("model") == model and (not dim or archived.get("dimension") == dim)
        if not same_model and not reembed:
            raise ModelMismatch(
                f"the backup was made with embedding model {archived.get('model')} ({archived.get('dimension')}-d) "
                f"but this service uses {model} ({dim or '?'}-d); run restore with --reembed to compute new vectors")
        result = RestoreResult()
        use_vectors = same_model and not reembed
        if not use_vectors:
            result.notes.append("vectors in the archive ignored: every memory is embedded again")
        async with open_backends(settings) as service:
            # History first: inserting a memory writes its own ADD event, after which the archived events would
            # count as "this memory has a history here already".
            if (work / "history.jsonl").exists():
                result.history = await _restore_history(service, work / "history.jsonl")
            if (work / "keys.jsonl").exists():
                result.keys = await _restore_keys(settings, work / "keys.jsonl")
            # A one-shot command: reading local files synchronously is fine here.
            records = open(work / "memories.jsonl", encoding="utf-8")  # noqa: SIM115
            vector_lines = open(work / "vectors.jsonl", encoding="utf-8")  # noqa: SIM115
            with records, vector_lines, bar(manifest["memories"]["count"], "restore", progress) as shown:
                vectors = _lines(vector_lines)
                next_vector = next(vectors, None)
                batch: list[Memory] = []
                for data in _lines(records):
                    try:
                        batch.append(memory_from_json(data))
                    except BadRecord as exc:
                        raise BackupError(f"memories.jsonl: {exc}") from None
                    if len(batch) >= BATCH:
                        next_vector = await _restore_batch(service, batch, vectors, next_vector, use_vectors,
                                                           int(archived.get("dimension") or 0), result)
                        shown.update(len(batch))
                        batch = []
                if batch:
                    await _restore_batch(service, batch, vectors, next_vector, use_vectors,
                                         int(archived.get("dimension") or 0), result)
                    shown.update(len(batch))
            if not await service.indexer.flush():
                result.notes.append(f"vector index not fully updated ({service.indexer.last_error}); "
                                    "the service finishes it when it starts")
        return result


async def _restore_history(service, path: Path) -> int:
    added, batch = 0, []
    with open(path, encoding="utf-8") as handle:
        for data in _lines(handle):
            try:
                user_id, event = history_from_json(data)
            except BadRecord as exc:
                raise BackupError(f"history.jsonl: {exc}") from None
            # a memory's events travel together, so whether it has a history here is decided once for all of them
            if len(batch) >= BATCH * 4 and batch[-1][1].memory_id != event.memory_id:
                added += await service.store.restore_history(batch)
                batch = []
            batch.append((user_id, event))
    return added + await service.store.restore_history(batch)


async def _restore_keys(settings: Settings, path: Path) -> int:
    from mem0_service.keys.store import open_key_store

    with open(path, encoding="utf-8") as handle:
        try:
            keys = [key_from_json(data) for data in _lines(handle)]
        except BadRecord as exc:
            raise BackupError(f"keys.jsonl: {exc}") from None
    if not keys:
        return 0
    store = open_key_store(settings)
    await store.open()
    try:
        return sum([await store.restore(key, digest) for key, digest in keys])
    finally:
        await store.close()


async def _restore_batch(service, batch: list[Memory], vectors: Iterator[dict], next_vector: dict | None,
                         use_vectors: bool, dim: int, result: RestoreResult) -> dict | None:
    # vectors.jsonl is a subset of memories.jsonl in the same id order, so both files stream side by side.
    known: dict[str, np.ndarray] = {}
    last_id = batch[-1].id
    while next_vector is not None and next_vector["id"] <= last_id:
        if use_vectors:
            known[next_vector["id"]] = decode_vector(next_vector["vector"], dim)
        next_vector = next(vectors, None)
    existing = await service.store.get_many([m.id for m in batch])
    fresh = [m for m in batch if m.id not in existing]
    changed = [m for m in batch if m.id in existing and existing[m.id] != m]
    result.unchanged += len(batch) - len(fresh) - len(changed)
    if fresh:
        await service.store.insert(fresh, actor="restore")
        result.inserted += len(fresh)
    for memory in changed:
        await service.store.update(memory, reindex=True, actor="restore")
        result.updated += 1
    for memory in [*fresh, *changed]:
        if memory.id in known:
            service.indexer.remember_vector(memory.id, memory.content, known[memory.id])
            result.vectors_reused += 1
        else:
            result.embedded += 1
    if not await service.indexer.flush():
        raise ServiceUnavailable(f"vector index update failed: {service.indexer.last_error}", dependency="vector_index")
    return next_vector


def describe(manifest: dict) -> str:
    emb = manifest.get("embedding", {})
    extras = "".join(f", {manifest[part]['count']} {label}" for part, label in
                     (("history", "history events"), ("keys", "scoped keys")) if part in manifest)
    return (f"{manifest['memories']['count']} memories, {manifest['vectors']['count']} vectors{extras}, "
            f"model {emb.get('model')} ({emb.get('dimension')}-d), made {manifest.get('created_at')} "
            f"by mem0-service {manifest.get('service_version')} on {manifest.get('records_backend')}")


