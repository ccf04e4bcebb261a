"""Asynchronous adds through the durable job queue, with real service processes on both backends: answered at
once, learned in the background, surviving kill -9 and chat model outages, shared by several workers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
import requests

from tests.ops.helpers import cli, service_env
from tests.support.api import Api
from tests.support.fact_model import FactModel
from tests.support.fixtures import BACKENDS, unique_user
from tests.support.postgres import fresh_database
from tests.support.service_process import ServiceProcess

# Polling bounds only: no assertion depends on how fast anything is.
PATIENCE = 90.0


@pytest.fixture(scope="module")
def model() -> Iterator[FactModel]:
    server = FactModel().start()
    yield server
    server.stop()


@pytest.fixture(params=sorted(BACKENDS))
def backend_env(request, model: FactModel) -> Iterator[dict[str, str]]:
    model.down = False
    model.extractions.clear()
    with contextlib.ExitStack() as stack:
        env = {**BACKENDS[request.param], "OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": model.base_url,
               "MEM0_EMBEDDER": "local", "MEM0_OPENAI_TIMEOUT": "5", "MEM0_JOB_BACKOFF": "0.2",
               "MEM0_JOB_POLL": "0.2"}
        if request.param.startswith("postgres"):
            env["DATABASE_URL"] = stack.enter_context(fresh_database())
        yield env


def add_async(api: Api, user: str, *turns: str, **fields) -> str:
    response = api.post("/api/memories", json={"user_id": user, "async": True, **fields,
                                               "messages": [{"role": "user", "content": t} for t in turns]})
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "queued" and response.headers["Location"] == f"/api/events/{answer['event_id']}"
    return answer["event_id"]


def event(api: Api, event_id: str, **kwargs) -> dict:
    response = api.get(f"/api/events/{event_id}", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(api: Api, event_id: str, *statuses: str) -> dict:
    deadline = time.monotonic() + PATIENCE
    while True:
        seen = event(api, event_id)
        if seen["status"] in statuses or time.monotonic() > deadline:
            assert seen["status"] in statuses, seen
            return seen
        time.sleep(0.1)


def contents(api: Api, user: str) -> list[str]:
    listed = api.get(f"/api/memories/user/{user}", params={"limit": 100}).json()["memories"]
    return sorted(m["content"] for m in listed)


def test_async_add_answers_at_once_and_the_event_tells_what_changed(service_factory, backend_env, tmp_path, model):
    service = service_factory(env=backend_env, data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    user = unique_user("ana")
    event_id = add_async(api, user, "Ana keeps bees", agent_id="tutor")
    done = wait_for(api, event_id, "done")
    assert [(e["event"], e["content"], e["agent_id"]) for e in done["results"]] == [("ADD", "Ana keeps bees", "tutor")]
    assert done["attempts"] == 1 and done["error"] is None and done["finished_at"]
    assert contents(api, user) == ["Ana keeps bees"]

    # a later fact of the same user is reconciled with the earlier one
    again = wait_for(api, add_async(api, user, "Ana keeps bees"), "done")
    assert [e["event"] for e in again["results"]] == ["NONE"]

    # a key sees only its own user's and agent's events
    def key(**scope) -> str:
        return api.post("/api/keys", json={"name": "k", "access": "read", **scope}).json()["key"]
    assert api.get(f"/api/events/{event_id}", key=key(user_id="someone-else")).status_code == 404
    assert api.get(f"/api/events/{event_id}", key=key(user_id=user, agent_id="other-agent")).status_code == 404
    assert event(api, event_id, key=key(user_id=user, agent_id="tutor"))["status"] == "done"
    assert api.get("/api/events/00000000-0000-0000-0000-000000000000").status_code == 404

    # what cannot be queued is refused naming the field
    bad = api.post("/api/memories", json={"user_id": user, "async": "soon", "messages": [{"role": "user",
                                                                                        "content": "x"}]})
    assert bad.status_code == 400 and bad.json()["field"] == "async"
    bad = api.post("/api/memories", json={"user_id": user, "async": True, "content": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "async"

    # the platform's asynchronous adds read the same store
    platform = {"Authorization": f"Token {service.api_key}"}
    queued = requests.post(f"{service.url}/v1/memories/", headers=platform, timeout=30, json={
        "user_id": user, "async_mode": True, "messages": [{"role": "user", "content": "Ana sings in a choir"}]})
    assert queued.status_code == 202, queued.text
    [answer] = queued.json()
    assert answer["status"] == "PENDING"
    deadline = time.monotonic() + PATIENCE
    while (read := requests.get(f"{service.url}/v1/event/{answer['event_id']}/", headers=platform,
                                timeout=30).json())["status"] != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(e["event"], e["memory"]) for e in read["results"]] == [("ADD", "Ana sings in a choir")]
    assert event(api, answer["event_id"])["status"] == "done"

    # erasing the user erases what its events kept: the conversations and the facts learned from them
    assert api.delete(f"/api/memories/user/{user}").status_code == 200
    assert api.get(f"/api/events/{event_id}").status_code == 404


def test_jobs_survive_kill_9_mid_extraction_and_apply_each_fact_once(service_factory, backend_env, tmp_path, model):
    user = unique_user("kim")
    data = tmp_path / "data"
    # dies after the facts are stored but before the job is marked done: the worst moment to lose the process
    crashing = service_factory(env={**backend_env, "MEM0_FAILPOINT": "job-before-done", "MEM0_JOB_LEASE": "2"},
                               data_dir=data)
    api = Api(crashing.url, crashing.api_key)
    event_id = add_async(api, user, "Kim drives a red tram", "Kim was born in Riga")
    assert crashing.process.wait(timeout=PATIENCE) == 137
    crashing.stop()

    service = service_factory(env={**backend_env, "MEM0_JOB_LEASE": "2"}, data_dir=data)
    api = Api(service.url, service.api_key)
    done = wait_for(api, event_id, "done")
    assert done["attempts"] == 2, "the run the crash interrupted, then the one that finished"
    assert contents(api, user) == ["Kim drives a red tram", "Kim was born in Riga"], "each fact applied once"
    assert sorted(e["event"] for e in done["results"]) == ["NONE", "NONE"], "the second run found them stored"


def test_chat_model_down_then_up_drains_the_queue_in_order(service_factory, backend_env, tmp_path, model):
    service = service_factory(env=backend_env, data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    users = [unique_user("lea"), unique_user("max")]
    model.down = True
    events = {(u, n): add_async(api, u, f"{u} fact {n}") for u in users for n in range(3)}
    first = events[(users[0], 0)]
    deadline = time.monotonic() + PATIENCE
    while (seen := event(api, first))["attempts"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen["status"] in ("queued", "running") and seen["attempts"] >= 2, "retried while the model is down"
    assert "overloaded" in seen["error"] or "503" in seen["error"], seen["error"]
    # per-user order: a later job of the user waits for the earlier one instead of running past it
    assert event(api, events[(users[0], 1)])["attempts"] == 0
    metrics = api.get("/metrics").text
    assert 'mem0_jobs{status="queued"}' in metrics and "mem0_jobs_oldest_age_seconds" in metrics

    model.down = False
    finished = {k: wait_for(api, e, "done") for k, e in events.items()}
    for user in users:
        assert contents(api, user) == [f"{user} fact {n}" for n in range(3)]
        starts = [finished[(user, n)]["started_at"] for n in range(3)]
        assert starts == sorted(starts), "a user's jobs ran in the order they were queued"
    assert 'mem0_jobs{status="queued"} 0' in api.get("/metrics").text


def test_a_job_that_keeps_failing_becomes_a_dead_letter_with_its_cause(service_factory, backend_env, tmp_path,
                                                                       model):
    service = service_factory(env={**backend_env, "MEM0_JOB_MAX_ATTEMPTS": "2"}, data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    user = unique_user("ned")
    model.down = True
    failed = wait_for(api, add_async(api, user, "Ned collects stamps"), "failed")
    model.down = False
    assert failed["attempts"] == 2 and failed["error"] and failed["results"] == []
    assert api.get(f"/api/memories/user/{user}").json()["memories"] == []
    ready = api.get("/api/ready").json()
    assert ready["jobs"]["dead_letters"] == 1
    assert 'mem0_jobs{status="failed"} 1' in api.get("/metrics").text
    doctor = cli(service_env(service), "doctor")
    assert "WARN  job queue" in doctor.stdout and "1 dead letter(s)" in doctor.stdout, doctor.stdout
    # the next job of the same user is not held back by the dead one
    assert wait_for(api, add_async(api, user, "Ned plays the oboe"), "done")["results"][0]["event"] == "ADD"


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_two_workers_share_the_queue_without_running_a_job_twice(tmp_path, model, backend):
    model.down = False
    model.extractions.clear()
    with contextlib.ExitStack() as stack:
        # a worker pool needs an index every process can open: the embedded one, on either record store
        env = {"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": model.base_url, "MEM0_EMBEDDER": "local",
               "MEM0_WORKERS": "2", "MEM0_VECTOR_INDEX": "embedded", "MEM0_JOB_POLL": "0.05"}
        if backend.startswith("postgres"):
            env["DATABASE_URL"] = stack.enter_context(fresh_database())
        service = ServiceProcess(tmp_path / "data", env=env).start()
        stack.callback(service.stop)
        api = Api(service.url, service.api_key)
        users = [unique_user(f"w{i}") for i in range(4)]
        events = [add_async(api, u, f"{u} likes tea number {n}") for n in range(5) for u in users]
        results = [wait_for(api, e, "done") for e in events]
        assert all(r["attempts"] == 1 for r in results)
        asked = {text: count for text, count in model.extractions.items() if "likes tea number" in text}
        assert len(asked) == 20 and set(asked.values()) == {1}, "every job ran exactly once"
        for user in users:
            assert contents(api, user) == sorted(f"{user} likes tea number {n}" for n in range(5))


def test_conversations_parked_as_pending_are_learned_by_the_queue_after_a_restart(service_factory, backend_env,
                                                                                  tmp_path, model):
    data = tmp_path / "data"
    service = service_factory(env=backend_env, data_dir=data)
    api = Api(service.url, service.api_key)
    user = unique_user("ola")
    model.down = True
    parked = api.post("/api/memories", json={"user_id": user, "session_id": "s1", "messages": [
        {"role": "user", "content": "Ola grows tomatoes"}, {"role": "assistant", "content": "Nice!"}]}).json()
    assert parked["extraction"]["status"] == "deferred"
    [interaction] = parked["results"]
    assert interaction["metadata"]["extraction"] == "pending"
    model.down = False
    service.restart()  # what was parked before, by this version or an earlier one, is found at start-up

    deadline = time.monotonic() + PATIENCE
    while "Ola grows tomatoes" not in contents(api, user) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert contents(api, user) == ["Ola grows tomatoes", "user: Ola grows tomatoes\nassistant: Nice!"]
    deadline = time.monotonic() + PATIENCE
    while (kept := api.get(f"/api/memories/{interaction['id']}").json())["metadata"]["extraction"] != "done":
        assert time.monotonic() < deadline, kept
        time.sleep(0.1)
    assert "extraction_error" not in kept["metadata"] and kept["session_id"] == "s1"
    service.restart()
    assert contents(api, user) == ["Ola grows tomatoes", "user: Ola grows tomatoes\nassistant: Nice!"], \
        "a conversation already learned from is not learned again"


def test_events_of_done_jobs_are_forgotten_after_the_retention(service_factory, backend_env, tmp_path, model):
    service = service_factory(env={**backend_env, "MEM0_JOB_RETENTION": "3", "MEM0_JOB_RESCAN": "0.3"},
                              data_dir=tmp_path / "data")
    api = Api(service.url, service.api_key)
    user = unique_user("pia")
    event_id = add_async(api, user, "Pia rows on Sundays")
    wait_for(api, event_id, "done")
    deadline = time.monotonic() + PATIENCE
    while api.get(f"/api/events/{event_id}").status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert api.get(f"/api/events/{event_id}").status_code == 404
    assert contents(api, user) == ["Pia rows on Sundays"], "the memories stay; only the event goes"
