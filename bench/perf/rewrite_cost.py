"""What a rewritten search costs the service itself, the chat model apart.

Loads N memories of the bench.perf data set (typical users of ~100 memories) into a service whose chat model is the
test suite's fake OpenAI server (it answers at once), then searches each query three times from one client: as
written (rewrite_query false), with a rewrite asked of the chat model (two alternatives), and again with the same
query (the rewrite is held by the service: no chat call). Server-Timing splits each search into the embedder, the
vector index, the record store and the chat call.

    .venv/bin/python -m bench.perf.rewrite_cost [--n 10000] [--queries 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import time
from pathlib import Path

import numpy as np

from bench.common import RESULTS, WORK, machine_note, session, start_service
from bench.perf.__main__ import batch_import, log, make_memories, make_queries, pct, server_timing

PASSES = {"as written": False, "rewrite asked of the chat model": True, "rewrite held by the service": True}
PARTS = ("embedder", "vector_index", "record_store", "llm")
ALTERNATIVES = ["What does the person like and prefer?", "habits, favourite drinks, food, hobbies, reminders"]


async def measure(url: str, key: str, queries: list[dict], fake) -> dict[str, dict]:
    out: dict[str, dict] = {name: {"ms": [], "parts": {p: [] for p in PARTS}} for name in PASSES}
    async with session(key, limit=1) as http:
        for query in queries:
            for name, rewrite in PASSES.items():
                if name == "rewrite asked of the chat model":
                    fake.queue_chat({"content": json.dumps({"queries": ALTERNATIVES})})
                started = time.perf_counter()
                async with http.post(f"{url}/api/memories/search", json={**query, "rewrite_query": rewrite}) as r:
                    body = await r.json()
                    assert r.status == 200, body
                    timing = server_timing(r.headers.get("Server-Timing", ""))
                out[name]["ms"].append((time.perf_counter() - started) * 1000)
                if rewrite:
                    assert body["query_rewrite"]["queries"] == ALTERNATIVES, body["query_rewrite"]
                for part in PARTS:
                    out[name]["parts"][part].append(timing.get(part, 0.0))
    return {name: {"p50": pct(r["ms"], 50), "p95": pct(r["ms"], 95),
                   "parts": {p: float(np.mean(v)) for p, v in r["parts"].items()}} for name, r in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from tests.support.fake_openai import FakeOpenAI

    rng = random.Random(24)
    memories = make_memories(args.n, 0, 100, rng)
    users = sorted({m["user_id"] for m in memories})
    seen: set[str] = set()
    # every query text once: a text searched before would find its rewrite held already
    queries = [q for q in make_queries(args.queries * 4, users, rng) if not (q["query"] in seen or seen.add(q["query"]))]
    queries = queries[:args.queries]
    fake = FakeOpenAI().start()
    data = WORK / "rewrite-cost"
    shutil.rmtree(data, ignore_errors=True)
    service = start_service(data, {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url,
                                   "MEM0_EMBEDDER": "local"})
    try:
        log(f"importing {len(memories)} memories")
        asyncio.run(batch_import(service.url, service.api_key, memories))
        log(f"searching {len(queries)} queries, three passes each")
        results = asyncio.run(measure(service.url, service.api_key, queries, fake))
    finally:
        service.stop()
        fake.stop()
    machine = machine_note()
    report = {"meta": {"machine": machine, "n": args.n, "queries": len(queries)}, "results": results}
    (args.out / "perf-rewrite-cost.json").write_text(json.dumps(report, indent=1) + "\n")
    write_report(args.out / "perf-rewrite-cost.md", report)
    print(json.dumps(results, indent=1))


def write_report(path: Path, report: dict) -> None:
    meta, results = report["meta"], report["results"]
    lines = ["# What a rewritten search costs the service", "",
             f"Command: `.venv/bin/python -m bench.perf.rewrite_cost --n {meta['n']} --queries {meta['queries']}`  ",
             f"Machine: {meta['machine']}", "",
             f"{meta['n']:,} memories of typical users (~100 each), {meta['queries']} distinct queries, one client, "
             "HTTP on loopback, limit 5. The chat model is the test suite's fake OpenAI server, which answers at once "
             "with two alternatives: its column is the round trip to a local server, not a hosted model's answer "
             "time, which comes on top of the second row only (the third row asks nothing).", "",
             "| search | p50 ms | p95 ms | embedder ms | vector index ms | record store ms | chat model ms |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        parts = r["parts"]
        lines.append(f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | {parts['embedder']:.2f} "
                     f"| {parts['vector_index']:.2f} | {parts['record_store']:.2f} | {parts['llm']:.2f} |")
    lines += ["", "Per-dependency columns are means per search from Server-Timing. A rewrite embeds the alternatives "
              "in the query's call, searches the vector index once per text and looks up each text's keyword "
              "evidence.", ""]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
