"""Nothing acknowledged is lost and nothing deleted comes back: crashes between steps, kill -9, database outages."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time

import pytest
import requests

from tests.support.api import Api
from tests.support.fixtures import BACKENDS, unique_user
from tests.support.postgres import ADMIN_URL, fresh_database
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(params=sorted(BACKENDS))
def backend_env(request):
    with contextlib.ExitStack() as stack:
        env = dict(BACKENDS[request.param])
        if request.param.startswith("postgres"):
            env["DATABASE_URL"] = stack.enter_context(fresh_database())
        yield env


def searchable(api: Api, user: str, memory_id: str, content: str) -> bool:
    hits = api.search(user, content, relevance_threshold=0.0, limit=10)["memories"]
    return memory_id in [h["id"] for h in hits]


@pytest.mark.parametrize("failpoint", ["after-record-commit", "before-index-ack"])
def test_crash_between_record_and_index_is_repaired_on_restart(service_factory, backend_env, tmp_path, failpoint):
    user = unique_user()
    crashing = service_factory(env={**backend_env, "MEM0_FAILPOINT": failpoint}, data_dir=tmp_path / "data")
    with pytest.raises(requests.ConnectionError):
        Api(crashing.url, crashing.api_key).post("/api/memories", json={"user_id": user, "content": "Кот по имени Барсик"})
    crashing.process.wait(timeout=10)
    crashing.stop()

    service = service_factory(env=backend_env, data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    listed = api.get(f"/api/memories/user/{user}").json()["memories"]
    assert len(listed) == 1, "the record was committed before the crash"
    deadline = time.monotonic() + 10  # the repair runs at start-up
    while time.monotonic() < deadline and not searchable(api, user, listed[0]["id"], "Кот по имени Барсик"):
        time.sleep(0.2)
    assert searchable(api, user, listed[0]["id"], "Кот по имени Барсик")
    hits = api.search(user, "Барсик", relevance_threshold=0.0, limit=10)["memories"]
    assert len(hits) == 1, "no duplicate vectors"


def test_kill_9_during_writes_loses_nothing_acknowledged(service_factory, backend_env, tmp_path):
    service = service_factory(env=backend_env, data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    user = unique_user()
    created: dict[str, str] = {}
    deleted: set[str] = set()
    stop = threading.Event()

    def writer() -> None:
        client = Api(service.url, service.api_key)
        n = 0
        while not stop.is_set() and n < 400:
            n += 1
            content = f"note {n} token{secrets.token_hex(3)}"
            try:
                response = client.post("/api/memories", json={"user_id": user, "content": content})
                if response.status_code == 201:
                    created[response.json()["id"]] = content
                if n % 3 == 0 and created:
                    victim = next(iter(created))
                    created.pop(victim)  # in flight: its fate is unknown until the delete is acknowledged
                    if client.delete(f"/api/memories/{victim}").status_code == 200:
                        deleted.add(victim)
            except requests.RequestException:
                return

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 30
    while len(created) + len(deleted) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    service.kill()
    stop.set()
    thread.join(timeout=30)
    assert len(created) > 5, "the writer got going before the crash"

    service.start()
    listed = {m["id"] for m in api.get(f"/api/memories/user/{user}", params={"limit": 1000}).json()["memories"]}
    assert set(created) <= listed, "every acknowledged create survives"
    assert not (deleted & listed), "no acknowledged delete comes back"
    for memory_id, content in list(created.items())[-5:]:
        assert searchable(api, user, memory_id, content)
    for memory_id in deleted:
        assert api.get(f"/api/memories/{memory_id}").status_code == 404


def test_postgres_outage_answers_503_and_recovers_without_loss(service_factory, tmp_path):
    port = int(ADMIN_URL.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(port)
    try:
        with fresh_database() as url:
            proxied = url.replace(f":{port}/", f":{proxy.port}/")
            service = service_factory(env={"DATABASE_URL": proxied, "MEM0_VECTOR_INDEX": "qdrant"})
            api = Api(service.url, service.api_key)
            user = unique_user()
            before = api.create(user, "Записано до сбоя")

            proxy.cut()
            outage = [api.post("/api/memories", json={"user_id": user, "content": f"во время сбоя {i}"})
                      for i in range(3)]
            outage.append(api.get(f"/api/memories/user/{user}"))
            outage.append(api.post("/api/memories/search", json={"user_id": user, "query": "сбой"}))
            for response in outage:
                assert response.status_code == 503, response.text
                body = response.json()
                assert body["error"] == "Service Unavailable" and body["dependency"] == "record_store"
                assert "Traceback" not in response.text
            assert api.get("/api/health", auth=False).status_code == 200  # liveness stays up

            proxy.restore()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                response = api.post("/api/memories", json={"user_id": user, "content": "Записано после сбоя"})
                if response.status_code == 201:
                    break
                time.sleep(0.5)
            assert response.status_code == 201
            contents = {m["content"] for m in api.get(f"/api/memories/user/{user}").json()["memories"]}
            assert contents == {"Записано до сбоя", "Записано после сбоя"}, "503s stored nothing, 201s all kept"
            assert searchable(api, user, before["id"], "Записано до сбоя")
    finally:
        proxy.close()


def test_postgres_flapping_under_traffic_keeps_every_acknowledged_write(service_factory):
    port = int(ADMIN_URL.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(port)
    try:
        with fresh_database() as url:
            service = service_factory(env={"DATABASE_URL": url.replace(f":{port}/", f":{proxy.port}/")})
            user = unique_user()
            acknowledged: list[str] = []
            statuses: list[int] = []
            stop = threading.Event()

            def traffic() -> None:
                client = Api(service.url, service.api_key)
                n, deadline = 0, time.monotonic() + 120
                # after stop, keep going until a write succeeds: that is the recovery being checked
                while not (stop.is_set() and statuses and statuses[-1] == 201) and time.monotonic() < deadline:
                    n += 1
                    response = client.post("/api/memories", json={"user_id": user, "content": f"event {n}"})
                    statuses.append(response.status_code)
                    if response.status_code == 201:
                        acknowledged.append(response.json()["id"])

            thread = threading.Thread(target=traffic)
            thread.start()
            for _ in range(3):
                time.sleep(0.7)
                proxy.cut()
                # each outage lasts until the traffic has seen it (a busy machine may send nothing in a fixed window)
                seen, deadline = len(statuses), time.monotonic() + 20
                while 503 not in statuses[seen:] and time.monotonic() < deadline:
                    time.sleep(0.05)
                proxy.restore()
            stop.set()
            thread.join(timeout=30)
            assert set(statuses) <= {201, 503}, f"only success or a clear 503: {sorted(set(statuses))}"
            assert 503 in statuses and statuses[-1] == 201, "the outage was seen and the service recovered"
            api = Api(service.url, service.api_key)
            listed = {m["id"] for m in api.get(f"/api/memories/user/{user}", params={"limit": 1000}).json()["memories"]}
            assert set(acknowledged) <= listed
    finally:
        proxy.close()
