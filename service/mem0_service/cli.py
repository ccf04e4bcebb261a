"""Command line: a thin layer over the application and the MemoryService."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from aiohttp import web
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # threadpoolctl ships no type hints

from mem0_service import __version__
from mem0_service.config import Settings
from mem0_service.database import database
from mem0_service.errors import ConfigError, ServiceUnavailable
from mem0_service.ops.logs import audit
from mem0_service.ops.logs import setup_logging as configure_logging


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def setup_logging(settings: Settings, level: str | None = None) -> None:
    configure_logging(level or settings.log_level, settings.log_format)


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="mem0-service")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Mem0 memory service. Without a command: `serve`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default MEM0_HOST or 0.0.0.0)")
@click.option("--port", type=int, default=None, help="Port (default MEM0_PORT or 3456)")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes sharing the port (default MEM0_WORKERS or 1)")
@click.option("--worker-index", type=int, default=None, hidden=True)  # set by the pool for its processes
def serve(host: str | None, port: int | None, workers: int | None, worker_index: int | None) -> None:
    """Run the HTTP service until interrupted."""
    from mem0_service.app import create_app

    settings = load_settings().ensure_api_key()
    overrides = {"host": host, "port": port, "workers": workers}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    setup_logging(settings)
    if worker_index is None:
        _banner(settings)
    if settings.workers > 1 and worker_index is None:
        from mem0_service.workers import WorkerPool

        try:
            sys.exit(WorkerPool(settings).run())
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    # numpy's BLAS would start a thread per core for every vector scan; in a server, concurrent requests are the
    # parallelism, and spinning BLAS threads slowed searches down at every concurrency measured.
    threadpool_limits(limits=1, user_api="blas")
    # the pool's first worker repairs and sweeps for all
    app = create_app(settings, background=worker_index in (None, 0))
    if worker_index is not None:
        async def announce(app: web.Application) -> None:
            logging.getLogger("mem0_service").info("worker %d started", worker_index)
        app.on_startup.append(announce)  # after the backends opened; the port is bound right after
    try:
        web.run_app(app, host=settings.host, port=settings.port,
                    print=None, access_log=logging.getLogger("aiohttp.access"), shutdown_timeout=10,
                    reuse_port=worker_index is not None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _banner(settings: Settings) -> None:
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    db = database(settings)
    backend = "PostgreSQL" if db.kind == "postgres" else f"SQLite in {db.location}"
    click.echo(f"Mem0 memory service {__version__}", err=True)
    click.echo(f"  URL:      http://{shown_host}:{settings.port}/api", err=True)
    key_note = f" (generated, kept in {settings.data_dir / 'api_key'})" if settings.api_key_generated else ""
    click.echo(f"  API key:  {settings.admin_key}{key_note}", err=True)
    click.echo(f"  Records:  {backend}; vectors: {settings.vector_index}; embedder: {settings.embedder}", err=True)
    if settings.workers > 1:
        click.echo(f"  Workers:  {settings.workers} processes", err=True)


# -- operations ---------------------------------------------------------------------------------------------
# Exit codes scripts can rely on: 0 done, 1 failed (the message says why), 2 wrong usage,
# 3 refused: the archive is damaged, of another format, or made with another embedding model.
EXIT_REFUSED = 3
progress_option = click.option("--progress/--no-progress", default=None,
                               help="Show a progress bar on stderr (default: when stderr is a terminal)")


def _cli_actor() -> str:
    return "cli:" + (os.environ.get("USER") or os.environ.get("USERNAME") or str(os.getuid()))


def _run(coro):
    """Run an async operation; dependency failures become a one-line error and exit code 1."""
    try:
        return asyncio.run(coro)
    except (ServiceUnavailable, ConfigError) as exc:
        raise click.ClickException(getattr(exc, "message", None) or str(exc)) from None


def _quiet_logs(settings: Settings) -> None:
    setup_logging(settings, "WARNING")


@main.command()
def migrate() -> None:
    """Apply the record store's schema migrations (the service also applies them when it starts)."""
    from mem0_service.backends import make_store
    from mem0_service.ops.doctor import _record_store

    settings = load_settings()
    _quiet_logs(settings)

    async def work() -> None:
        store = make_store(settings)
        await store.open()  # applies every migration not applied yet, under a lock on PostgreSQL
        await store.close()
        finding = await _record_store(settings)
        click.echo(finding.text)

    _run(work())


@main.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path), required=False)
@progress_option
def backup(output: Path | None, progress: bool | None) -> None:
    """Write one consistent archive of every memory, its vector, the history, the scoped keys (digests only), the
    message logs, the webhook subscriptions (with their signing secrets: keep the archive as private as the
    database) and a manifest (model, dimension, checksums).

    OUTPUT defaults to mem0_backup_YYYYmmdd_HHMMSS.tar.gz in the current directory. Safe while the service
    runs: the records are read from one snapshot, and a memory whose vector may lag behind is re-embedded on
    restore instead of being saved half-written.
    """
    from mem0_service.ops.archive import backup as take_backup
    from mem0_service.ops.snapshot import SnapshotUnreadable

    settings = load_settings()
    _quiet_logs(settings)
    output = output or Path(f"mem0_backup_{datetime.now(timezone.utc):%Y%m%d_%H%M%S}.tar.gz")
    try:
        result = _run(take_backup(settings, output, progress=progress))
    except SnapshotUnreadable as exc:
        raise click.ClickException(f"backup stopped, no archive written: {exc}") from None
    audit("backup", actor=_cli_actor(), file=str(result.path), memories=result.memories)
    click.echo(f"Backup written to {result.path}: {result.memories} memories, {result.vectors} vectors, "
               f"{result.history} history events, {result.keys} scoped keys, {result.messages} logged messages, "
               f"{result.webhooks} webhook subscriptions")
    if result.vectors_note:
        click.echo(f"Note: {result.vectors_note}")


def _describe_key(key) -> str:
    """A restored key as an operator recognises it: never its secret, nor its digest."""
    bound = ", ".join(part for part in (f"user {key.user_id}" if key.user_id else "",
                                        f"agent {key.agent_id}" if key.agent_id else "") if part)
    state = "read-only" if key.access == "read" else "read-write"
    return f"{key.id} ({bound}; {state}{'; revoked' if key.revoked_at else ''}{'; ' + key.name if key.name else ''})"


def _describe_webhook(hook) -> str:
    """A restored webhook as an operator recognises it: never its secret."""
    scope = ", ".join(part for part in (f"user {hook.user_id}" if hook.user_id else "",
                                        f"agent {hook.agent_id}" if hook.agent_id else "") if part) or "every user"
    state = "enabled" if hook.enabled else f"disabled: {hook.disabled_reason or 'no reason recorded'}"
    return f"{hook.id} -> {hook.url} ({scope}; {', '.join(hook.events)}; {state})"


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reembed", is_flag=True, help="Accept a backup made with another embedding model: embed every "
                                              "memory again with the current one")
@click.option("--check", "check_only", is_flag=True,
              help="Only verify the archive: checksums against the manifest and every line against the value rules")
@click.option("--no-keys", "no_keys", is_flag=True, help="Leave out the archive's scoped keys")
@click.option("--no-webhooks", "no_webhooks", is_flag=True,
              help="Leave out the archive's webhook subscriptions (e.g. restoring production data into a test "
                   "install whose changes must not reach production receivers)")
@progress_option
def restore(archive: Path, reembed: bool, check_only: bool, no_keys: bool, no_webhooks: bool,
            progress: bool | None) -> None:
    """Restore a backup into the configured store (empty or not: archived memories are added or brought back to
    their archived version, others are left alone). The whole archive is verified first and written in one
    transaction, so a refused archive leaves the store untouched. Safe next to a running service on the embedded
    index (it takes in the restored vectors at its next search); stop the service first with Qdrant's local mode.
    """
    from mem0_service.core.ports import LoadError
    from mem0_service.ops.archive import BackupError, describe, verified_archive
    from mem0_service.ops.archive import restore as do_restore

    settings = load_settings()
    _quiet_logs(settings)
    try:
        if check_only:
            with verified_archive(archive) as (manifest, _, _):
                click.echo(f"{archive}: verified: {describe(manifest)}")
            return
        result = _run(do_restore(settings, archive, reembed=reembed, keys=not no_keys, webhooks=not no_webhooks,
                                 progress=progress))
    except BackupError as exc:
        click.echo(f"Error: restore refused, nothing was written: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    except LoadError as exc:
        raise click.ClickException(f"restore failed: {exc}") from None
    audit("restore", actor=_cli_actor(), file=str(archive), inserted=result.inserted, updated=result.updated,
          keys=[key.id for key in result.restored_keys], webhooks=[hook.id for hook in result.restored_webhooks])
    click.echo(f"Restored from {archive}: {result.inserted} added, {result.updated} brought back, "
               f"{result.unchanged} already identical; {result.vectors_reused} vectors reused, "
               f"{result.embedded} embedded; {result.history} history events and {result.keys} scoped keys added; "
               f"{result.messages} logged messages added; {result.webhooks} webhook subscriptions added")
    for key in result.restored_keys:
        click.echo(f"Scoped key restored: {_describe_key(key)}")
    for hook in result.restored_webhooks:
        click.echo(f"Webhook restored: {_describe_webhook(hook)}")
    for note in result.notes:
        click.echo(f"Note: {note}")


@main.command()
@click.option("--all", "everything", is_flag=True,
              help="Re-embed every memory, even when the index already holds vectors")
@progress_option
def reembed(everything: bool, progress: bool | None) -> None:
    """Embed the memories with the configured model into that model's own index.

    Changing MEM0_EMBEDDER / MEM0_EMBEDDING_MODEL selects a new, empty collection (or file): this fills it from
    the records, which stay the source of truth. Resumable: the work is queued in the record store, so an
    interrupted run continues where it stopped (here, or in the service, which also repairs an empty index at
    start-up). Stop the service first when it uses Qdrant's local mode.
    """
    from mem0_service.backends import open_backends
    from mem0_service.ops.progress import bar

    settings = load_settings()
    _quiet_logs(settings)

    async def work() -> tuple[int, int]:
        async with open_backends(settings) as service:
            if everything:
                await service.store.enqueue_reindex_all()
            else:
                await service.repair_index()
            pending = await service.store.count_pending_index_ops()
            with bar(pending, f"Embedding with {service.embedder.name}", progress) as shown:
                if not await service.indexer.flush(on_progress=shown.update):
                    raise ServiceUnavailable(f"Stopped: {service.indexer.last_error}; run again to continue",
                                             dependency="vector_index")
            return pending, await service.index.count()

    done, total = _run(work())
    click.echo(f"Re-embedded {done} memories; the index holds {total} vectors")


@main.command(name="export")
@click.argument("output", type=click.File("w", encoding="utf-8", lazy=True), default="-")
@click.option("--user-id", default=None, help="Only this user's memories")
@progress_option
def export_command(output, user_id: str | None, progress: bool | None) -> None:
    """Write memories as JSON lines (one object per line, ids and timestamps kept) to OUTPUT or stdout."""
    from mem0_service.ops.snapshot import SnapshotUnreadable
    from mem0_service.ops.transfer import export

    settings = load_settings()
    _quiet_logs(settings)
    try:
        count = export(settings, output, user_id=user_id, progress=progress)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except SnapshotUnreadable as exc:
        raise click.ClickException(f"export stopped: {exc}") from None
    click.echo(f"Exported {count} memories", err=True)


@main.command(name="import")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--skip-invalid", is_flag=True, help="Skip lines that are not memories instead of stopping")
@progress_option
def import_command(source, skip_invalid: bool, progress: bool | None) -> None:
    """Read memories from JSON lines (as written by `export`) into the configured store, embedding them.

    The whole file is checked before anything is written, and written in one transaction. Ids and timestamps
    are kept, so moving from SQLite to PostgreSQL loses nothing; an id that already exists
    is brought to the imported version. A running service on the embedded index finds imported memories at
    its next search; stop it first when it uses Qdrant's local mode.
    """
    from mem0_service.core.ports import LoadError
    from mem0_service.ops.transfer import ImportError_, import_lines

    settings = load_settings()
    _quiet_logs(settings)
    try:
        result = _run(import_lines(settings, source, skip_invalid=skip_invalid, progress=progress))
    except ImportError_ as exc:
        raise click.ClickException(f"import refused, nothing was written: {exc}") from None
    except LoadError as exc:
        raise click.ClickException(f"import failed: {exc}") from None
    audit("import", actor=_cli_actor(), inserted=result.inserted, updated=result.updated)
    click.echo(f"Imported: {result.inserted} added, {result.updated} updated, {result.unchanged} already identical"
               + (f", {result.skipped} invalid lines skipped" if result.skipped else ""))
    if result.index_note:
        click.echo(f"Note: {result.index_note}")


@main.command()
@click.option("--older-than", "older_than", required=True, help="Age, e.g. 180d, 26w, 1y (the guide: 6 months)")
@click.option("--type", "types", multiple=True,
              type=click.Choice(["fact", "preference", "interaction", "metadata", "pattern"]),
              help="Only memories of this type (repeatable)")
@click.option("--user-id", default=None, help="Only this user's memories")
@click.option("--yes", is_flag=True, help="Delete for real (without it: only show what would be deleted)")
@progress_option
def cleanup(older_than: str, types: tuple[str, ...], user_id: str | None, yes: bool, progress: bool | None) -> None:
    """Delete memories created before a given age. A dry run unless --yes is given."""
    from mem0_service.ops import cleanup as ops_cleanup

    try:
        age = ops_cleanup.parse_age(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    settings = load_settings()
    _quiet_logs(settings)
    try:
        found = ops_cleanup.plan(settings, age, types, user_id)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    what = f"{len(found.ids)} memories created before {found.cutoff:%Y-%m-%d %H:%M} UTC" + \
        (f" of type {', '.join(types)}" if types else "") + (f" of user {user_id}" if user_id else "")
    if not yes:
        click.echo(f"Dry run: would delete {what}. Run again with --yes to delete them.")
        return
    deleted = _run(ops_cleanup.delete(settings, found.ids, progress=progress))
    audit("cleanup", actor=_cli_actor(), older_than=older_than, types=list(types), deleted=deleted)
    click.echo(f"Deleted {deleted} of {what}.")


@main.group()
def keys() -> None:
    """Scoped API keys: bound to a user and/or agent, read-only or read-write (the admin key stays MEM0_API_KEY)."""


def _key_store_call(fn):
    from mem0_service.backends import make_store
    from mem0_service.keys.store import KeyStore

    settings = load_settings()
    _quiet_logs(settings)

    async def work():
        store = make_store(settings)
        await store.open()  # applies the migrations: the keys table exists
        try:
            return await fn(KeyStore(store))
        finally:
            await store.close()

    return _run(work())


@keys.command(name="create")
@click.option("--user-id", default=None, help="The only user whose memories the key may touch")
@click.option("--agent-id", default=None, help="The only agent whose memories the key may touch")
@click.option("--read-only", is_flag=True, help="Search, list and get only")
@click.option("--name", default=None, help="A label: which flow or tenant uses the key")
def keys_create(user_id: str | None, agent_id: str | None, read_only: bool, name: str | None) -> None:
    """Create a key and print its secret (shown once: only a hash is stored)."""
    if not user_id and not agent_id:
        raise click.UsageError("give --user-id, --agent-id or both: a scoped key must be bound to something")
    key, secret = _key_store_call(lambda s: s.create(user_id=user_id, agent_id=agent_id,
                                                     access="read" if read_only else "read_write", name=name))
    audit("keys create", actor=_cli_actor(), key=key.id, user_id=user_id, agent_id=agent_id, access=key.access)
    click.echo(f"Created {key.id} ({key.access}; user {user_id or 'any'}, agent {agent_id or 'any'})", err=True)
    click.echo(secret)


@keys.command(name="list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key")
def keys_list(include_revoked: bool, as_json: bool) -> None:
    """List keys (never their secrets)."""
    from mem0_service.stores.base import iso

    found = _key_store_call(lambda s: s.list(include_revoked=include_revoked))
    for key in found:
        if as_json:
            click.echo(json.dumps({"id": key.id, "prefix": key.prefix, "name": key.name, "user_id": key.user_id,
                                   "agent_id": key.agent_id, "access": key.access, "created_at": iso(key.created_at),
                                   "revoked_at": iso(key.revoked_at) if key.revoked_at else None}))
        else:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            click.echo(f"{key.id}  {key.prefix}…  {key.access:<10}  user={key.user_id or '*'}  "
                       f"agent={key.agent_id or '*'}  {state}  {key.name or ''}".rstrip())
    if not found and not as_json:
        click.echo("No keys.", err=True)


@keys.command(name="revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by id (running services stop accepting it within MEM0_KEY_CACHE_SECONDS)."""
    key = _key_store_call(lambda s: s.revoke(key_id))
    if key is None:
        raise click.ClickException(f"no API key {key_id}")
    audit("keys revoke", actor=_cli_actor(), key=key.id)
    click.echo(f"Revoked {key.id}")


@main.group()
def quarantine() -> None:
    """Memories whose index work failed for them alone (e.g. a stored value that cannot be read back) and was
    set aside so that everyone else's went on. Searches miss them until they are retried or dropped."""


def _quarantine_call(fn):
    from mem0_service.ops.quarantine import record_store

    settings = load_settings()
    _quiet_logs(settings)

    async def work():
        async with record_store(settings) as store:
            return await fn(store)

    return _run(work())


@quarantine.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry")
def quarantine_list(as_json: bool) -> None:
    """Name every quarantined memory with the reason."""
    from mem0_service.ops.quarantine import describe
    from mem0_service.stores.base import iso

    entries = _quarantine_call(lambda s: s.quarantined(limit=1_000_000))
    for entry in entries:
        if as_json:
            click.echo(json.dumps({"memory_id": entry.memory_id, "user_id": entry.user_id, "op": entry.op,
                                   "cause": entry.cause, "quarantined_at": iso(entry.quarantined_at)}))
        else:
            click.echo(f"{entry.quarantined_at:%Y-%m-%d %H:%M:%S}  {describe(entry)}")
    if not entries and not as_json:
        click.echo("The quarantine is empty.", err=True)


def _chosen(memory_ids: tuple[str, ...], everything: bool) -> list[str] | None:
    if bool(memory_ids) == everything:
        raise click.UsageError("name the memory ids, or give --all")
    return None if everything else list(memory_ids)


@quarantine.command(name="retry")
@click.argument("memory_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every quarantined memory")
def quarantine_retry(memory_ids: tuple[str, ...], everything: bool) -> None:
    """Queue quarantined memories for indexing again (after fixing the cause); failing again quarantines them again."""
    queued = _quarantine_call(lambda s: s.retry_quarantined(_chosen(memory_ids, everything)))
    audit("quarantine retry", actor=_cli_actor(), memory_ids=list(memory_ids) or "all", count=queued)
    click.echo(f"Queued {queued} memories for indexing again; the service applies them with its next index sync")


@quarantine.command(name="drop")
@click.argument("memory_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every quarantined memory")
def quarantine_drop(memory_ids: tuple[str, ...], everything: bool) -> None:
    """Delete quarantined memories (their history keeps a DELETE event; their vectors follow through the outbox)."""
    dropped = _quarantine_call(lambda s: s.drop_quarantined(_chosen(memory_ids, everything), actor=_cli_actor()))
    audit("quarantine drop", actor=_cli_actor(), memory_ids=list(memory_ids) or "all", count=dropped)
    click.echo(f"Dropped {dropped} quarantined memories")


@main.command()
@click.option("--timeout", default=10.0, show_default=True, help="Seconds each dependency may take")
def doctor(timeout: float) -> None:
    """Check the configuration and every dependency (record store, vector index, embedder) and say what is wrong.

    Exit code 0 when nothing failed (warnings allowed), 1 otherwise.
    """
    from mem0_service.ops.doctor import run

    logging.disable(logging.WARNING)
    findings = asyncio.run(run(timeout=timeout))
    marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        click.echo(f"{marks[finding.status]}  {finding.topic}: {finding.text}")
    failed = [f for f in findings if f.status == "fail"]
    click.echo(f"\n{len(failed)} problem(s) found." if failed else "\nEverything answers.")
    if failed:
        sys.exit(1)


@main.command(name="mcp")
@click.option("--user-id", default=None,
              help="The user an admin key's tools act for (default MEM0_MCP_USER_ID); a user-bound key fixes its own")
def mcp_command(user_id: str | None) -> None:
    """Serve the memory tools over MCP on stdin/stdout, with the key in MEM0_MCP_API_KEY."""
    from mem0_service.mcp.stdio import serve_stdio

    settings = load_settings().ensure_api_key()  # the admin key the service generated works here too
    # stdout carries the protocol: logs go to stderr, and only warnings, so a client's log pane stays readable
    setup_logging(settings, "WARNING")
    _run(serve_stdio(settings, user_id=user_id))




@main.command()
@click.argument("labelled", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--query-weight", type=click.FloatRange(0.0, 10.0), default=None,
              help="Per-query normalisation to fit the anchors for (default: the best of 0, 0.5, 1, 2, 3 on this set)")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Store the result as MEM0_SCORE_CALIBRATION in this env file (its line replaced, or added)")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def calibrate(labelled: Path, query_weight: float | None, env_file: Path | None, as_json: bool) -> None:
    """Fit the configured embedding model's relevance calibration to a labelled set (JSON, see the README).

    Prints how the current calibration and the fitted one do at the default threshold 0.7: the share of
    relevant and of unrelated query-memory pairs that pass. The service reads the result from
    MEM0_SCORE_CALIBRATION at start-up.
    """
    from mem0_service.backends import make_embedder
    from mem0_service.core.calibration_fit import LabelledSetError, embed_labelled, evaluate, fit, read_labelled

    settings = load_settings()
    _quiet_logs(settings)
    try:
        users = read_labelled(labelled)
    except LabelledSetError as exc:
        raise click.ClickException(str(exc)) from None

    async def work():
        embedder = make_embedder(settings)
        await embedder.open()
        try:
            return embedder.name, embedder.calibration, await embed_labelled(users, embedder)
        finally:
            await embedder.close()

    model, current, queries = _run(work())
    try:
        before, after = evaluate(current, queries), fit(queries, query_weight)
    except LabelledSetError as exc:
        raise click.ClickException(f"{labelled}: {exc}") from None
    if env_file is not None:
        _store_setting(env_file, "MEM0_SCORE_CALIBRATION", str(after.calibration))
    if as_json:
        def described(result):
            return {"calibration": str(result.calibration), "relevant_pass": round(result.relevant_pass, 4),
                    "unrelated_pass": round(result.unrelated_pass, 4), "hit_at_1": round(result.hit_at_1, 4),
                    "unanswerable_pass": round(result.unanswerable_pass, 4)}
        click.echo(json.dumps({"model": model, "queries": after.queries, "pairs": after.pairs,
                               "current": described(before), "fitted": described(after),
                               "stored_in": str(env_file) if env_file else None}))
        return
    click.echo(f"Model {model}: {after.queries} queries, {after.pairs} query-memory pairs")
    for label, result in (("current", before), ("fitted", after)):
        click.echo(f"  {label:8s} {str(result.calibration):34s} at 0.7: relevant pass {result.relevant_pass:.0%}, "
                   f"unrelated pass {result.unrelated_pass:.0%}, hit@1 {result.hit_at_1:.0%}")
    click.echo(f"MEM0_SCORE_CALIBRATION={after.calibration}")
    if env_file is not None:
        click.echo(f"Stored in {env_file}")


def _store_setting(path: Path, name: str, value: str) -> None:
    """Replace the setting's line in an env file, or add it; other lines stay as they were."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        kept = [line for line in lines if not line.strip().startswith(f"{name}=")]
        path.write_text("\n".join([*kept, f"{name}={value}"]) + "\n", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None


if __name__ == "__main__":
    main()
