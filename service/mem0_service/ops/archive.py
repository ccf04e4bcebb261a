"""Backups: one archive holding the records, their vectors and a manifest; restores that check it first.

Layout of a backup (a gzip'd tar):
  manifest.json   format, service version, backend, embedding model and dimension, counts and SHA-256 of members
  memories.jsonl  every memory, one JSON object per line, in id order
  vectors.jsonl   {"id", "vector" (base64 little-endian float32)} for memories whose vector is known to match
  history.jsonl   every history event, deleted memories' included, by memory id and then in order (format 2)
  keys.jsonl      every scoped key, revoked ones included, with the SHA-256 of its secret, never the secret (format 2)
  messages.jsonl  every session's message log, by user, session and seq (format 3)
  webhooks.jsonl  every webhook subscription, disabled ones included, in id order: URL, events, user/agent scope,
                  description, who made it and when, enabled state and reason, and its signing secret (format 4)

A backup therefore holds the webhooks' signing secrets in clear (receivers check every delivery's signature with
them, so a restore must bring them back unchanged): protect an archive like the database itself. Deliveries (the
queue, the delivery log) and each subscription's delivery state (failures in a row, next retry, lease) are transient
and stay out: a restored subscription starts with an empty queue and no failures.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from mem0_service import __version__, failpoints
from mem0_service.config import Settings
from mem0_service.core.as_given import AsGivenCounts, write_as_given
from mem0_service.core.memory import HistoryEvent, Memory, utcnow
from mem0_service.core.ports import AsGivenWriter
from mem0_service.errors import ServiceUnavailable
from mem0_service.keys.model import ApiKey
from mem0_service.ops.progress import bar
from mem0_service.ops.records import (
    BadRecord,
    history_from_json,
    history_line,
    key_from_json,
    key_line,
    memory_from_json,
    memory_line,
    message_from_json,
    message_line,
    webhook_from_json,
    webhook_line,
)
from mem0_service.ops.snapshot import open_snapshot
from mem0_service.ops.validation import parse_json
from mem0_service.ops.validation import utc_text as iso
from mem0_service.webhooks.store import Webhook

FORMAT = "mem0-backup"
FORMAT_VERSION = 4
READABLE_VERSIONS = {1: ("memories", "vectors"), 2: ("memories", "vectors", "history", "keys"),
                     3: ("memories", "vectors", "history", "keys", "messages"),
                     4: ("memories", "vectors", "history", "keys", "messages", "webhooks")}  # members per format
MEMBERS = ("manifest.json", "memories.jsonl", "vectors.jsonl", "history.jsonl", "keys.jsonl", "messages.jsonl",
           "webhooks.jsonl")
BATCH = 500
T = TypeVar("T")


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
    messages: int = 0
    webhooks: int = 0


@dataclass
class RestoreResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    vectors_reused: int = 0
    embedded: int = 0
    history: int = 0
    keys: int = 0
    messages: int = 0
    webhooks: int = 0
    restored_keys: list[ApiKey] = field(default_factory=list)
    restored_webhooks: list[Webhook] = field(default_factory=list)
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
            messages = _HashingWriter(work / "messages.jsonl")
            for logged in snapshot.message_batches(BATCH * 4):
                for message in logged:
                    messages.write(message_line(message))
            messages.close()
            webhooks = _HashingWriter(work / "webhooks.jsonl")
            for hook in snapshot.webhooks():
                webhooks.write(webhook_line(hook))
            webhooks.close()
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
            "messages": {"file": "messages.jsonl", "count": messages.lines, "sha256": messages.digest.hexdigest()},
            "webhooks": {"file": "webhooks.jsonl", "count": webhooks.lines, "sha256": webhooks.digest.hexdigest()},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for name in MEMBERS:
                tar.add(work / name, arcname=name)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, output)  # an interrupted backup never leaves a file that looks complete
    return BackupResult(output, records.lines, vectors.lines, history.lines, keys.lines, note, messages.lines,
                        webhooks.lines)


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
        if not isinstance(manifest, dict):
            raise BackupError("manifest.json is not a JSON object")
        version = manifest.get("format_version")
        parts = READABLE_VERSIONS.get(version) if manifest.get("format") == FORMAT and isinstance(version, int) \
            else None
        if parts is None:
            raise BackupError(f"unsupported backup format {manifest.get('format')!r} "
                              f"version {manifest.get('format_version')!r}")
        for part in parts:
            unpacked = work / f"{part}.jsonl"
            if not unpacked.exists():
                raise BackupError(f"{path} is not a complete mem0 backup: {unpacked.name} is missing")
            info = manifest.get(part)
            if not isinstance(info, dict):
                raise BackupError(f"manifest.json: field '{part}' is missing or not an object")
            digest, lines = hashlib.sha256(), 0
            with open(unpacked, "rb") as f:
                for line in f:
                    digest.update(line)
                    lines += 1
            if digest.hexdigest() != info.get("sha256") or lines != info.get("count"):
                raise BackupError(f"{part}.jsonl does not match the manifest (damaged or edited archive): "
                                  f"{lines} lines, manifest says {info.get('count')}")
        yield manifest, work


@dataclass
class ArchiveContents:
    """What a verified archive holds, learnt by reading every line of it."""

    memories: int = 0
    vectors: int = 0
    history: int = 0
    keys: int = 0
    messages: int = 0
    webhooks: int = 0


def _lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, parsed JSON) of a member; a line that is not JSON is refused with its number."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
                yield number, parse_json(text)
            except ValueError as exc:  # UnicodeDecodeError included
                raise BackupError(f"{path.name} line {number}: {exc}") from None


def _records(path: Path, parse: Callable[[Any], T]) -> Iterator[tuple[int, T]]:
    for number, data in _lines(path):
        try:
            yield number, parse(data)
        except BadRecord as exc:
            raise BackupError(f"{path.name} line {number}: {exc}") from None


def _vector(data: dict, dim: int, number: int) -> tuple[str, np.ndarray]:
    where = f"vectors.jsonl line {number}"
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("vector"), str):
        raise BackupError(f"{where}: each line must be an object with string fields 'id' and 'vector'")
    try:
        raw = base64.b64decode(data["vector"], validate=True)
    except ValueError:
        raise BackupError(f"{where}: field 'vector' is not base64") from None
    if len(raw) != 4 * dim:
        raise BackupError(f"{where}: field 'vector' has {len(raw) / 4:g} dimensions, the manifest says {dim}")
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(vector).all():
        raise BackupError(f"{where}: field 'vector' holds a number that is not finite")
    return data["id"], vector


def _memories_with_vectors(work: Path, dim: int) -> Iterator[tuple[int, Memory, np.ndarray | None]]:
    """Each memory with its archived vector, if any. vectors.jsonl lists some of the memories, in the order of
    memories.jsonl, so both members stream side by side; a vector out of that order is refused."""
    vectors = ((n, *_vector(data, dim, n)) for n, data in _lines(work / "vectors.jsonl"))
    pending = next(vectors, None)
    for number, memory in _records(work / "memories.jsonl", memory_from_json):
        vector = None
        if pending is not None and pending[1] == memory.id:
            vector = pending[2]
            pending = next(vectors, None)
        yield number, memory, vector
    if pending is not None:
        raise BackupError(f"vectors.jsonl line {pending[0]}: field 'id' names {pending[1]!r}, which is not a memory "
                          "of the archive or is out of the order of memories.jsonl")


def check_archive(manifest: dict, work: Path) -> ArchiveContents:
    """Read every line of every member and apply the value rules, so that a restore refuses an archive before it
    writes anything rather than half-way through. Raises BackupError naming the member, the line and the field."""
    contents = ArchiveContents()
    embedding = manifest.get("embedding")
    dim = embedding.get("dimension") if isinstance(embedding, dict) else None
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
        raise BackupError("manifest.json: field 'embedding.dimension' must be a whole number")
    ids: set[str] = set()
    for number, memory, vector in _memories_with_vectors(work, dim):
        if memory.id in ids:
            raise BackupError(f"memories.jsonl line {number}: field 'id' repeats memory {memory.id!r}")
        ids.add(memory.id)
        contents.memories += 1
        contents.vectors += vector is not None
    if (work / "history.jsonl").exists():
        for _ in _records(work / "history.jsonl", history_from_json):
            contents.history += 1
    if (work / "keys.jsonl").exists():
        key_ids: set[str] = set()
        digests: set[str] = set()
        for number, (key, digest) in _records(work / "keys.jsonl", key_from_json):
            if key.id in key_ids:
                raise BackupError(f"keys.jsonl line {number}: field 'id' repeats key {key.id!r}")
            if digest in digests:
                raise BackupError(f"keys.jsonl line {number}: field 'key_hash' repeats another key's digest")
            key_ids.add(key.id)
            digests.add(digest)
            contents.keys += 1
    if (work / "messages.jsonl").exists():
        numbered: set[tuple[str, str, int]] = set()
        for number, message in _records(work / "messages.jsonl", message_from_json):
            position = (message.user_id, message.session_id, message.seq)
            if position in numbered:
                raise BackupError(f"messages.jsonl line {number}: field 'seq' repeats message {message.seq} of "
                                  f"session {message.session_id!r}")
            numbered.add(position)
            contents.messages += 1
    if (work / "webhooks.jsonl").exists():
        hook_ids: set[str] = set()
        for number, hook in _records(work / "webhooks.jsonl", webhook_from_json):
            if hook.id in hook_ids:
                raise BackupError(f"webhooks.jsonl line {number}: field 'id' repeats webhook {hook.id!r}")
            hook_ids.add(hook.id)
            contents.webhooks += 1
    return contents


@contextlib.contextmanager
def verified_archive(path: Path) -> Iterator[tuple[dict, Path, ArchiveContents]]:
    """An archive whose checksums match its manifest and whose every line is a valid record (`restore --check`)."""
    with open_archive(path) as (manifest, work):
        yield manifest, work, check_archive(manifest, work)


async def restore(settings: Settings, archive: Path, *, reembed: bool = False, keys: bool = True,
                  webhooks: bool = True, progress: bool | None = None) -> RestoreResult:
    """Verify the whole archive, then write its memories (new ids inserted, existing ones brought back to the
    archived version), their history, the scoped keys, the message logs and the webhook subscriptions in one
    transaction; then their vectors, reusing the archived ones where the model matches. A refused archive leaves
    the store untouched."""
    from mem0_service.backends import open_backends

    with verified_archive(archive) as (manifest, work, contents):
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
        if not keys and contents.keys:
            result.notes.append(f"{contents.keys} scoped keys in the archive left out (--no-keys)")
        if not webhooks and contents.webhooks:
            result.notes.append(f"{contents.webhooks} webhook subscriptions in the archive left out (--no-webhooks)")
        async with open_backends(settings) as service:  # opening applies the schema migrations first
            with service.as_given() as writer:
                written = _write(writer, work, contents, int(archived["dimension"]), keys, webhooks, result,
                                 progress)
            await _index(service, work, written, use_vectors, int(archived["dimension"]), result)
            if not await service.indexer.flush():
                result.notes.append(f"vector index not fully updated ({service.indexer.last_error}); "
                                    "the service finishes it when it starts")
        return result


def _write(loader: AsGivenWriter, work: Path, contents: ArchiveContents, dim: int, keys: bool, webhooks: bool,
           result: RestoreResult, progress: bool | None) -> set[str]:
    """Everything of the archive the store lacks, in the loader's one transaction; returns the memories written."""
    # History first, for memories without a history here: those memories' archived events are then their whole
    # history, and inserting them adds no event of its own.
    restored_history: set[str] = set()
    if (work / "history.jsonl").exists():
        result.history = _write_history(loader, work / "history.jsonl", restored_history)
    if keys and (work / "keys.jsonl").exists():
        added, present = _added(work / "keys.jsonl", key_from_json, lambda pair: loader.add_key(*pair))
        result.restored_keys = [key for key, _ in added]
        result.keys = len(result.restored_keys)
        if present:
            result.notes.append(f"{present} scoped keys of the archive are here already (same id or secret) "
                                "and were left as they are")
    if (work / "messages.jsonl").exists():
        logged = [message for _, message in _records(work / "messages.jsonl", message_from_json)]
        result.messages = sum(loader.add_messages(logged[i:i + BATCH]) for i in range(0, len(logged), BATCH))
    written: set[str] = set()
    batch: list[Memory] = []
    with bar(contents.memories, "restore", progress) as shown:
        for _, memory, _ in _memories_with_vectors(work, dim):
            batch.append(memory)
            if len(batch) >= BATCH:
                written.update(_write_memories(loader, batch, restored_history, result))
                failpoints.crash_if("restore-mid-transaction")  # history, keys and a batch written, none committed
                shown.update(len(batch))
                batch = []
        written.update(_write_memories(loader, batch, restored_history, result))
        shown.update(len(batch))
    # Subscriptions after the memories: the restore's own writes are not announced to them (their receivers were
    # told of those memories when they were made); webhooks already here are told, as of any other write.
    if webhooks and (work / "webhooks.jsonl").exists():
        result.restored_webhooks, present = _added(work / "webhooks.jsonl", webhook_from_json, loader.add_webhook)
        result.webhooks = len(result.restored_webhooks)
        if present:
            result.notes.append(f"{present} webhook subscriptions of the archive are here already (same id) "
                                "and were left as they are")
    return written


def _added(path: Path, parse: Callable[[Any], T], add: Callable[[T], bool]) -> tuple[list[T], int]:
    """Each record of a member given to `add`: (the records it stored, how many it found here already)."""
    added: list[T] = []
    present = 0
    for _, record in _records(path, parse):
        if add(record):
            added.append(record)
        else:
            present += 1
    return added, present


def _write_history(loader: AsGivenWriter, path: Path, restored: set[str]) -> int:
    decided: dict[str, bool] = {}  # memory id -> its archived events are written (it had no history here)
    added, batch = 0, list[tuple[str, HistoryEvent]]()

    def write() -> int:
        unknown = list({e.memory_id: None for _, e in batch if e.memory_id not in decided})
        present = loader.with_history(unknown)
        decided.update((i, i not in present) for i in unknown)
        kept = [(user, e) for user, e in batch if decided[e.memory_id]]
        loader.add_history(kept)
        restored.update(e.memory_id for _, e in kept)
        return len(kept)

    for _, pair in _records(path, history_from_json):
        batch.append(pair)
        if len(batch) >= BATCH * 4:
            added += write()
            batch = []
    return added + (write() if batch else 0)


def _write_memories(writer: AsGivenWriter, batch: list[Memory], restored_history: set[str],
                    result: RestoreResult) -> list[str]:
    # A memory whose archived history was just restored has its ADD event already; any other gains one.
    counts = AsGivenCounts()
    written = write_as_given(writer, batch, actor="restore", counts=counts, history_kept=restored_history)
    result.inserted += counts.inserted
    result.updated += counts.updated
    result.unchanged += counts.unchanged
    return written


async def _index(service, work: Path, written: set[str], use_vectors: bool, dim: int, result: RestoreResult) -> None:
    """Vectors of the memories written, batch by batch: the archived ones where usable, others embedded."""
    if not written:
        return
    batch = 0
    for _, memory, vector in _memories_with_vectors(work, dim):
        if memory.id not in written:
            continue
        if use_vectors and vector is not None:
            service.indexer.remember_vector(memory.id, memory.content, vector)
            result.vectors_reused += 1
        else:
            result.embedded += 1
        batch += 1
        if batch >= BATCH:
            await _flush(service, batch)
            batch = 0
    if batch:
        await _flush(service, batch)


async def _flush(service, count: int) -> None:
    # Only this batch's share of the outbox: the rest waits for the vectors of its own batch.
    if not await service.indexer.flush(limit=count):
        raise ServiceUnavailable(f"vector index update failed: {service.indexer.last_error}; the records are "
                                 "restored, and the service finishes the vectors when it starts",
                                 dependency="vector_index")


def describe(manifest: dict) -> str:
    emb = manifest.get("embedding", {})
    extras = "".join(f", {manifest[part]['count']} {label}" for part, label in
                     (("history", "history events"), ("keys", "scoped keys"),
                                      ("messages", "logged messages"), ("webhooks", "webhook subscriptions"))
                     if part in manifest)
    return (f"{manifest['memories']['count']} memories, {manifest['vectors']['count']} vectors{extras}, "
            f"model {emb.get('model')} ({emb.get('dimension')}-d), made {manifest.get('created_at')} "
            f"by mem0-service {manifest.get('service_version')} on {manifest.get('records_backend')}")


