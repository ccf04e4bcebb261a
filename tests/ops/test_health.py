"""Health that tells the truth: /api/health stays the guide's public liveness answer; the deep check and
/api/ready ask every dependency and name the one that fails."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.ops.helpers import TcpProxy, cli, free_port
from tests.support.fake_openai import EMBEDDING_DIM
from tests.support.fixtures import unique_user
from tests.support.postgres import fresh_database


def _through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"))


def _deep(service, path: str = "/api/health?deep=1") -> requests.Response:
    return requests.get(service.url + path, timeout=30)


def test_deep_health_on_the_embedded_default(live_service):
    plain = requests.get(f"{live_service.url}/api/health", timeout=5)
    assert set(plain.json()) == {"status", "version", "timestamp"}
    for path in ("/api/health?deep=1", "/api/ready"):
        body = _deep(live_service, path).json()
        assert body["status"] == "ok"
        assert {name: check["status"] for name, check in body["checks"].items()} == {
            "record_store": "ok", "vector_index": "ok", "embedder": "ok"}


@pytest.mark.postgres
def test_stopped_postgresql_is_named_and_recovery_is_seen(service_factory):
    with fresh_database("mem0_health") as url:
        proxy = TcpProxy(urlsplit(url).port or 5432).start()
        try:
            service = service_factory({"DATABASE_URL": _through(proxy, url), "MEM0_VECTOR_INDEX": "qdrant",
                                       "MEM0_HEALTH_TIMEOUT": "3"})
            user = unique_user()
            headers = {"Authorization": f"Bearer {service.api_key}"}
            assert requests.post(f"{service.url}/api/memories", json={"user_id": user, "content": "before"},
                                 headers=headers, timeout=30).status_code == 201
            assert _deep(service).status_code == 200

            proxy.stop()  # PostgreSQL is gone, as far as the service can tell
            for path in ("/api/health?deep=1", "/api/ready"):
                down = _deep(service, path)
                assert down.status_code == 503
                body = down.json()
                assert body["error"] == "Service Unavailable" and body["dependency"] == "record_store"
                assert body["failing"] == ["record_store"]
                assert body["checks"]["vector_index"]["status"] == "ok"
                assert "record_store unavailable" in body["message"]
            assert requests.get(f"{service.url}/api/health", timeout=5).status_code == 200  # liveness stays up
            write = requests.post(f"{service.url}/api/memories", json={"user_id": user, "content": "during"},
                                  headers=headers, timeout=30)
            assert write.status_code == 503 and write.json()["dependency"] == "record_store"

            proxy.start()
            deadline = time.monotonic() + 20
            while _deep(service).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert _deep(service).status_code == 200
        finally:
            proxy.stop()


def test_unreachable_embedder_is_named(service_factory, fake_openai):
    proxy = TcpProxy(urlsplit(fake_openai.base_url).port).start()
    try:
        service = service_factory({"OPENAI_API_KEY": "sk-test", "MEM0_EMBEDDING_DIMS": str(EMBEDDING_DIM),
                                   "OPENAI_BASE_URL": f"http://127.0.0.1:{proxy.port}/v1", "MEM0_HEALTH_TIMEOUT": "2"})
        proxy.stop()
        down = _deep(service, "/api/ready")
        assert down.status_code == 503
        assert down.json()["failing"] == ["embedder"]
        proxy.start()
        deadline = time.monotonic() + 20
        while _deep(service, "/api/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _deep(service, "/api/ready").status_code == 200
    finally:
        proxy.stop()


def test_doctor_and_backup_name_an_unreachable_postgresql(tmp_path):
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/mem0"
    env = {"DATABASE_URL": dead, "MEM0_DATA_DIR": str(tmp_path), "MEM0_API_KEY": "a-long-enough-admin-key"}
    doctor = cli(env, "doctor", "--timeout", "5")
    assert doctor.returncode == 1
    assert "FAIL  record store: PostgreSQL at 127.0.0.1:" in doctor.stdout
    assert "is not reachable" in doctor.stdout and "Connection refused" in doctor.stdout
    assert "OK    embedder" in doctor.stdout
    backup = cli(env, "backup", str(tmp_path / "b.tar.gz"))
    assert backup.returncode == 1
    assert "Cannot connect to PostgreSQL" in backup.stderr and "Traceback" not in backup.stderr
    assert not list(tmp_path.glob("b.tar.gz*"))


def test_doctor_passes_on_a_working_setup_and_explains_bad_configuration(tmp_path, fake_openai):
    good = cli({"MEM0_DATA_DIR": str(tmp_path), "MEM0_API_KEY": "a-long-enough-admin-key"}, "doctor")
    assert good.returncode == 0, good.stdout
    assert "Everything answers." in good.stdout
    bad = cli({"MEM0_DATA_DIR": str(tmp_path), "MEM0_PORT": "seventy"}, "doctor")
    assert bad.returncode == 1 and "FAIL  configuration" in bad.stdout and "port" in bad.stdout
    bad_limit = cli({"MEM0_DATA_DIR": str(tmp_path), "MEM0_RATE_LIMIT": "lots"}, "doctor")
    assert bad_limit.returncode == 1 and "MEM0_RATE_LIMIT must be a number" in bad_limit.stdout
    fake_openai.queue_error("/embeddings", 401, {"error": {"message": "Incorrect API key provided"}})
    rejected = cli({"MEM0_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-wrong", "MEM0_EMBEDDING_DIMS": str(EMBEDDING_DIM),
                    "OPENAI_BASE_URL": fake_openai.base_url}, "doctor")
    assert rejected.returncode == 1
    assert "FAIL  embedder" in rejected.stdout and "401" in rejected.stdout and "OPENAI_API_KEY" in rejected.stdout
