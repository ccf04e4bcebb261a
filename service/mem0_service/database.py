"""Where the record store's database is, as the settings select it: the one place that reads DATABASE_URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mem0_service.config import Settings


@dataclass(frozen=True)
class Database:
    """A PostgreSQL server (`url`) or an SQLite file (`path`)."""

    kind: Literal["sqlite", "postgres"]
    url: str | None = None
    path: Path | None = None

    @property
    def location(self) -> str:
        return str(self.url if self.kind == "postgres" else self.path)


def database(settings: Settings) -> Database:
    url = settings.database_url
    if url and url.startswith(("postgres://", "postgresql://")):
        return Database("postgres", url=url)
    return Database("sqlite", path=Path(url.removeprefix("sqlite:///")) if url else settings.data_dir / "memories.sqlite3")
