"""The backends' calls are timed by wrappers the application composes once: /metrics and Server-Timing show
each dependency, and the stores beside the records (keys, webhooks) work on the record store itself."""

from __future__ import annotations

import re

import pytest

from mem0_service.core.job_queue import JobQueue
from mem0_service.core.ports import RecordStore
from mem0_service.embedders.base import Embedder
from mem0_service.errors import ServiceUnavailable
from mem0_service.metrics import new_registry
from mem0_service.state import RECORDS, SERVICE
from mem0_service.timed.embedder import TimedEmbedder
from mem0_service.timed.records import TimedRecordStore
from mem0_service.timed.timer import DependencyTimer
from mem0_service.timed.vectors import TimedVectorIndex
from mem0_service.vectors.base import VectorIndex
from mem0_service.webhooks.store import open_webhook_store


def _samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


async def test_metrics_and_server_timing_show_each_dependency(api):
    await api.create("tim", "Tim waters the ferns on Sundays")
    async with api.client.post("/api/memories/search", json={"user_id": "tim", "query": "ferns"},
                               headers={"Authorization": f"Bearer {api.admin_key}"}) as response:
        assert response.status == 200
        parts = dict(re.findall(r"(\w+);dur=([\d.]+)", response.headers["Server-Timing"]))
    assert {"embedder", "vector_index", "record_store", "total"} <= set(parts)

    status, text = await api.call("GET", "/metrics")
    assert status == 200
    samples = _samples(text)
    for dependency, operation in (("embedder", "embed"), ("embedder", "embed_one"), ("vector_index", "upsert"),
                                  ("vector_index", "search"), ("record_store", "insert"),
                                  ("record_store", "first_in_scope")):
        key = f'mem0_dependency_duration_seconds_count{{dependency="{dependency}",operation="{operation}"}}'
        assert samples.get(key, 0) >= 1, key


async def test_keys_and_webhooks_live_beside_the_record_store_itself(api):
    app = api.client.app
    records = app[RECORDS]
    assert isinstance(app[SERVICE].store, TimedRecordStore) and app[SERVICE].store.records is records
    assert not isinstance(records, TimedRecordStore)
    secret = await api.key(user_id="ana")
    status, _ = await api.call("GET", "/api/memories/user/ana", key=secret)
    assert status == 200
    with pytest.raises(TypeError):  # a wrapper's dialect cannot be told: refused rather than guessed
        open_webhook_store(app[SERVICE].store)


async def test_a_dependency_that_is_down_is_counted_as_an_error():
    metrics = new_registry()
    timer = DependencyTimer(metrics, "vector_index")

    async def failing(error: Exception) -> None:
        raise error

    with pytest.raises(ServiceUnavailable):
        await timer("search", failing(ServiceUnavailable("Qdrant is not answering", dependency="vector_index")))
    with pytest.raises(ValueError):  # a caller's mistake is not the dependency's failure
        await timer("search", failing(ValueError("bad filter")))
    samples = _samples(metrics.render({}))
    assert samples['mem0_dependency_errors_total{dependency="vector_index"}'] == 1
    assert samples['mem0_dependency_duration_seconds_count{dependency="vector_index",operation="search"}'] == 2


@pytest.mark.parametrize(("wrapper", "ports"), [
    (TimedRecordStore, (RecordStore, JobQueue)), (TimedVectorIndex, (VectorIndex,)), (TimedEmbedder, (Embedder,))])
def test_every_method_of_the_port_reaches_the_wrapped_backend(wrapper, ports):
    """A method inherited from the port instead of forwarded would run the port's default, not the backend's own."""
    methods = {name for port in ports for name, value in vars(port).items()
               if callable(value) and not name.startswith("_")}
    assert methods and not sorted(methods - set(vars(wrapper)))
