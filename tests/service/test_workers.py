"""MEM0_WORKERS: several processes on one port behave like one service."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.support.service_process import ServiceProcess, child_pids


def _gone(pid: int) -> bool:
    """Exited: no process, or a zombie (its sockets are closed already; only its parent has yet to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _wait_for(predicate, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    service = ServiceProcess(tmp_path_factory.mktemp("pool"), env={"MEM0_WORKERS": "2"}).start(timeout=120)
    _wait_for(lambda: service.log().count("worker 1 started") == 1, "the second worker")
    time.sleep(0.5)  # it binds the port right after announcing itself
    yield service
    service.stop()


def _fresh(service: ServiceProcess) -> requests.Session:
    """A new connection each time: the kernel picks the worker per connection."""
    session = requests.Session()
    session.headers.update({**service.headers, "Connection": "close"})
    return session


def test_two_worker_processes_serve_the_port(pool):
    workers = child_pids(pool.process.pid)
    assert len(workers) == 2


def test_a_write_on_one_worker_is_read_by_every_worker(pool):
    for i in range(30):
        content = f"Pool check {i}: Ilse keeps a {['red', 'blue', 'green'][i % 3]} kayak number {i}"
        created = _fresh(pool).post(f"{pool.url}/api/memories", json={"user_id": "pool-user", "content": content})
        assert created.status_code == 201, created.text
        memory_id = created.json()["id"]
        for _ in range(2):  # two more connections, so both workers are asked
            found = _fresh(pool).post(f"{pool.url}/api/memories/search",
                                      json={"user_id": "pool-user", "query": content, "limit": 1}).json()
            assert [m["id"] for m in found["memories"]] == [memory_id]
        assert _fresh(pool).delete(f"{pool.url}/api/memories/{memory_id}").status_code == 200
        for _ in range(2):
            found = _fresh(pool).post(f"{pool.url}/api/memories/search",
                                      json={"user_id": "pool-user", "query": content, "limit": 3}).json()
            assert memory_id not in [m["id"] for m in found["memories"]]


def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(pool):
    before = child_pids(pool.process.pid)
    os.kill(before[-1], signal.SIGKILL)
    _wait_for(lambda: _gone(before[-1]), "the killed worker to release its socket")
    for _ in range(20):  # the surviving worker answers while the parent replaces the dead one
        assert _get_retrying_once(f"{pool.url}/api/health").status_code == 200
    _wait_for(lambda: len(child_pids(pool.process.pid)) == 2 and child_pids(pool.process.pid) != before,
              "a replacement worker")
    assert "starting a new one" in pool.log()


def _get_retrying_once(url: str) -> requests.Response:
    """The kernel may still hand a connection to the dying listener (a reset), as with any pre-forking server;
    clients retry those."""
    try:
        return requests.get(url, timeout=10)
    except requests.ConnectionError:
        return requests.get(url, timeout=10)


def test_stopping_the_pool_stops_every_worker(tmp_path):
    service = ServiceProcess(tmp_path, env={"MEM0_WORKERS": "2"}).start(timeout=120)
    _wait_for(lambda: "worker 1 started" in service.log(), "the second worker")
    workers = child_pids(service.process.pid)
    service.stop()
    for pid in workers:
        _wait_for(lambda pid=pid: _gone(pid), f"worker {pid} to exit", timeout=20)


def test_a_pool_refuses_qdrant_local_mode(tmp_path):
    service = ServiceProcess(tmp_path, env={"MEM0_WORKERS": "2", "MEM0_VECTOR_INDEX": "qdrant"})
    with pytest.raises(RuntimeError, match="needs a Qdrant server"):
        service.start(timeout=60)


def test_a_keys_rate_limit_holds_across_workers(tmp_path):
    service = ServiceProcess(tmp_path, env={"MEM0_WORKERS": "2", "MEM0_RATE_LIMIT": "60",
                                            "MEM0_RATE_LIMIT_BURST": "6"}).start(timeout=120)
    try:
        _wait_for(lambda: service.log().count("worker 1 started") == 1, "the second worker")
        time.sleep(0.5)
        # Fresh connections land on both workers; with a budget per worker, up to 12 of these would pass.
        statuses = [_fresh(service).get(f"{service.url}/api/memories/user/someone").status_code for _ in range(12)]
        assert statuses.count(200) in (6, 7), statuses  # the burst, plus at most one token refilled meanwhile
        assert set(statuses) == {200, 429}
    finally:
        service.stop()


def test_appends_from_both_workers_keep_one_total_order_in_a_session_log(pool):
    from concurrent.futures import ThreadPoolExecutor

    def append(n: int) -> list[int]:
        response = _fresh(pool).post(f"{pool.url}/api/sessions/pool-chat/messages", timeout=60, json={
            "user_id": "pool-log", "messages": [{"role": "user", "content": f"writer {n} line {i}"} for i in range(4)]})
        assert response.status_code == 201, response.text
        return [m["seq"] for m in response.json()["messages"]]

    with ThreadPoolExecutor(max_workers=8) as threads:
        numbered = list(threads.map(append, range(24)))
    log = _fresh(pool).get(f"{pool.url}/api/sessions/pool-chat/messages",
                           params={"user_id": "pool-log", "limit": 1000}).json()["messages"]
    assert [m["seq"] for m in log] == list(range(1, 97))
    for n, seqs in enumerate(numbered):  # each append holds consecutive numbers, in the order it sent them
        assert seqs == list(range(seqs[0], seqs[0] + 4))
        assert [log[s - 1]["content"] for s in seqs] == [f"writer {n} line {i}" for i in range(4)]
