"""Values stored before they were validated are repaired by a migration, on each backend: SQLite's unpadded years
(which sorted after every four-digit year) and NaN written as text that is not JSON, and PostgreSQL timestamps
psycopg cannot read back."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import psycopg

from mem0_service.stores.base import iso, parse_iso
from tests.support.api import Api
from tests.support.fixtures import unique_user
from tests.support.postgres import fresh_database
from tests.support.service_process import ServiceProcess


def test_iso_writes_one_fixed_width_form():
    assert iso(datetime(999, 6, 1, tzinfo=timezone.utc)) == "0999-06-01T00:00:00.000000Z"
    assert iso(datetime(5, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)) == "0005-01-02T03:04:05.000006Z"
    assert iso(datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)) == "2026-12-01T16:00:00.000000Z"
    assert sorted([iso(datetime(999, 1, 1, tzinfo=timezone.utc)), iso(datetime(2026, 1, 1, tzinfo=timezone.utc))])[0] \
        .startswith("0999")
    assert parse_iso("999-06-01T00:00:00.000000Z") == datetime(999, 6, 1, tzinfo=timezone.utc)
    assert parse_iso(iso(datetime(1, 1, 2, tzinfo=timezone.utc))) == datetime(1, 1, 2, tzinfo=timezone.utc)


def _rerun_migration(service: ServiceProcess, run) -> None:
    service.stop()
    run()
    service.start()


def test_sqlite_unpadded_years_and_nan_metadata_are_repaired(tmp_path):
    service = ServiceProcess(tmp_path / "svc", api_key="dates-key").start()
    try:
        api = Api(service.url, service.api_key)
        user = unique_user()
        expired, live = api.create(user, "expired long ago"), api.create(user, "still here")

        def store_the_old_form():
            with sqlite3.connect(tmp_path / "svc" / "memories.sqlite3") as db:
                db.execute("UPDATE memories SET expires_at = '999-06-01T00:00:00.000000Z' WHERE id = ?",
                           (expired["id"],))
                db.execute("""UPDATE memories SET metadata = '{"source": "n8n", "score": NaN, "list": [1, Infinity]}'
                              WHERE id = ?""", (live["id"],))
                db.execute("DELETE FROM schema_migrations WHERE version = 6")

        _rerun_migration(service, store_the_old_form)
        listed = api.get(f"/api/memories/user/{user}").json()
        assert [m["id"] for m in listed["memories"]] == [live["id"]]
        with sqlite3.connect(tmp_path / "svc" / "memories.sqlite3") as db:
            row = db.execute("SELECT expires_at FROM memories WHERE id = ?", (expired["id"],)).fetchone()
        assert row is None or row[0] == "0999-06-01T00:00:00.000000Z", "padded, or already swept as expired"
        filtered = api.get(f"/api/memories/user/{user}", params={"metadata": '{"source": "n8n"}'})
        assert filtered.status_code == 200, filtered.text
        assert filtered.json()["memories"][0]["metadata"] == {"source": "n8n", "score": None, "list": [1, None]}
        assert api.create(unique_user(), "writes work")["id"]
    finally:
        service.stop()


def test_postgres_expiry_dates_psycopg_cannot_read_are_moved_into_the_range(tmp_path):
    with fresh_database() as url:
        service = ServiceProcess(tmp_path / "svc", api_key="dates-key", env={"DATABASE_URL": url}).start()
        try:
            api = Api(service.url, service.api_key)
            user = unique_user()
            never, expired = api.create(user, "kept for ever"), api.create(user, "expired long ago")

            def store_unreadable_dates():
                with psycopg.connect(url, autocommit=True) as db:
                    db.execute("UPDATE memories SET expires_at = '9999-12-31 23:59:59-05:00' WHERE id = %s",
                               (never["id"],))
                    db.execute("UPDATE memories SET expires_at = '0001-01-01 00:00:00+05:00' WHERE id = %s",
                               (expired["id"],))
                    db.execute("DELETE FROM schema_migrations WHERE version = 4")

            _rerun_migration(service, store_unreadable_dates)
            memory = api.get(f"/api/memories/{never['id']}")
            assert memory.status_code == 200, memory.text
            assert memory.json()["expires_at"] == "9999-12-30T23:59:59.999999Z"
            assert api.get(f"/api/memories/{expired['id']}").status_code == 404
            assert [m["id"] for m in api.get(f"/api/memories/user/{user}").json()["memories"]] == [never["id"]]
        finally:
            service.stop()
