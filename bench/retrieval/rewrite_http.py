"""The query rewrite lever checked through the HTTP API on both record stores: the labelled sets stored through
POST /api/memories/batch, each query searched with rewrite_query false and true (threshold 0, every memory of the
user returned), the chat model played by the fake OpenAI server of the test suite answering with the stored
rewrites. Scored as the offline replica scores its rows (bench.retrieval.relevance.pass_shares)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.common import start_service
from bench.retrieval.relevance import Item, pass_shares

STORES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Hit:
    memory_id: str
    relevance: float


def measure(sets: dict[str, Path], rewrites: dict[str, list[str]]) -> dict[str, dict]:
    """{store: {set: {"as written": shares, "rewritten": shares}}}."""
    from tests.support.fake_openai import FakeOpenAI

    fake = FakeOpenAI().start()
    try:
        return {store: _one_store(store, sets, rewrites, fake) for store in STORES}
    finally:
        fake.stop()


def _one_store(store: str, sets: dict[str, Path], rewrites: dict[str, list[str]], fake) -> dict[str, dict]:
    from tests.support.postgres import fresh_database

    with contextlib.ExitStack() as stack:
        env = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url, "MEM0_EMBEDDER": "local"}
        if store == "postgresql":
            env["DATABASE_URL"] = stack.enter_context(fresh_database("mem0_bench"))
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        service = start_service(data_dir, env)
        stack.callback(service.stop)
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {service.api_key}"
        return {name: _one_set(http, service.url, path, rewrites, fake) for name, path in sets.items()}


def _one_set(http: requests.Session, url: str, path: Path, rewrites: dict[str, list[str]], fake) -> dict:
    plain_items, rewritten_items = [], []
    for user in json.loads(path.read_text())["users"]:
        who = f"{path.stem}-{user['user_id']}"
        keys = list(user["memories"])
        created = http.post(f"{url}/api/memories/batch", json={"memories": [
            {"user_id": who, "content": user["memories"][k]} for k in keys]}, timeout=120)
        created.raise_for_status()
        key_of = {r["memory"]["id"]: k for k, r in zip(keys, created.json()["results"])}
        for query in user["queries"]:
            relevant, hard = set(query["relevant"]), set(query.get("hard_negatives", []))
            for wanted, items in ((False, plain_items), (True, rewritten_items)):
                if wanted:
                    fake.clear()  # nothing left over from a query whose rewrite the service had kept
                    fake.queue_chat({"content": json.dumps({"queries": rewrites.get(query["q"], [])})})
                body = {"user_id": who, "query": query["q"], "relevance_threshold": 0, "limit": 100,
                        "rewrite_query": wanted}
                answer = http.post(f"{url}/api/memories/search", json=body, timeout=60)
                answer.raise_for_status()
                hits = [Hit(key_of[m["id"]], m["relevance_score"]) for m in answer.json()["memories"]]
                items.append((Item(who, keys, {}, {}, relevant, hard), hits))
    return {"as written": pass_shares([i for i, _ in plain_items], _ranked(plain_items)),
            "rewritten": pass_shares([i for i, _ in rewritten_items], _ranked(rewritten_items))}


def _ranked(pairs: list[tuple[Item, list[Hit]]]):
    by_item = {id(item): hits for item, hits in pairs}
    return lambda item: by_item[id(item)]
