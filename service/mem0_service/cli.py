"""Command line: a thin layer over the application and the MemoryService."""

from __future__ import annotations

import asyncio
import logging
import sys

import click
from aiohttp import web

from mem0_service import __version__
from mem0_service.config import Settings
from mem0_service.errors import ConfigError


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


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
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP service until interrupted."""
    from mem0_service.app import create_app

    settings = load_settings().ensure_api_key()
    settings = settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v is not None})
    setup_logging(settings.log_level)
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    backend = "PostgreSQL" if settings.database_url else f"SQLite in {settings.data_dir.resolve()}"
    click.echo(f"Mem0 memory service {__version__}", err=True)
    click.echo(f"  URL:      http://{shown_host}:{settings.port}/api", err=True)
    key_note = f" (generated, kept in {settings.data_dir / 'api_key'})" if settings.api_key_generated else ""
    click.echo(f"  API key:  {settings.admin_key}{key_note}", err=True)
    click.echo(f"  Records:  {backend}; vectors: {settings.vector_index}; embedder: {settings.embedder}", err=True)
    try:
        web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None,
                    access_log=logging.getLogger("aiohttp.access"), shutdown_timeout=10)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
