"""LoCoMo retrieval benchmark through the service's public HTTP API, side by side with BM25 and mem0 OSS.

Every dialogue turn becomes a memory of its conversation's user (POST /api/memories, type interaction,
metadata dia_id / session / session_date); every question with evidence turns is a search (limit 10,
relevance_threshold 0). Reported per category: recall@1/5/10 of the evidence turns, MRR, search latency.

    .venv/bin/python -m bench.retrieval [--data PATH] [--skip-mem0] [--skip-postgres] [--out bench/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import RESULTS, WORK, bounded, machine_note, run_mem0, session, start_service
from bench.retrieval.locomo import DEFAULT_DATA, load
from bench.retrieval.metrics import GROUPS, per_question, summarise
from tests.support.postgres import fresh_database

SYSTEMS = {
    "bm25": "(a) BM25 (bm25s, lowercase, English stop words), in process",
    "mem0": "(b) mem0 OSS 2.2.1, infer=False, same USE model, local Qdrant",
    "dense": "(c) this service, dense only (MEM0_KEYWORD_WEIGHT=0)",
    "service": "(d) this service, default hybrid ranking",
    "service_pg": "(e) this service on PostgreSQL records (its full-text search), default hybrid ranking",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def memory_body(t) -> dict:
    return {"user_id": f"locomo-{t.conversation}", "content": t.content, "type": "interaction",
            "session_id": f"session-{t.session}",
            "metadata": {"dia_id": t.dia_id, "session": t.session, "session_date": t.session_date}}


async def ingest(url: str, key: str, turns, mode: str) -> float:
    """`batch`: POST /api/memories/batch, 200 turns a request; `single`: one POST /api/memories per turn, 8 in flight."""
    async with session(key) as http:
        async def create(t):
            async with http.post(f"{url}/api/memories", json=memory_body(t)) as r:
                if r.status != 201:
                    raise RuntimeError(f"create failed: {r.status} {await r.text()}")

        async def create_batch(chunk):
            async with http.post(f"{url}/api/memories/batch", json={"memories": [memory_body(t) for t in chunk]}) as r:
                body = await r.json()
                if r.status != 201 or body["created"] != len(chunk):
                    raise RuntimeError(f"batch failed: {r.status} {str(body)[:500]}")
        t0 = time.perf_counter()
        if mode == "single":
            await bounded(turns, create, 8)
        else:
            await bounded([turns[i:i + 200] for i in range(0, len(turns), 200)], create_batch, 2)
        return time.perf_counter() - t0


async def search_all(url: str, key: str, questions, *, limit: int, threshold: float) -> list[dict]:
    """One client, one request at a time: latency without queueing."""
    out = []
    async with session(key, limit=1) as http:
        for q in questions:
            body = {"user_id": f"locomo-{q.conversation}", "query": q.text, "limit": limit,
                    "relevance_threshold": threshold}
            t0 = time.perf_counter()
            async with http.post(f"{url}/api/memories/search", json=body) as r:
                data = await r.json()
            ms = (time.perf_counter() - t0) * 1000
            out.append({"ms": ms, "ids": [m["metadata"]["dia_id"] for m in data["memories"]],
                        "scores": [m["relevance_score"] for m in data["memories"]], "total": data["total"]})
    return out


def run_bm25(turns, questions) -> list[dict]:
    import bm25s

    models = {}
    for conv, rows in turns.items():
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize([t.content for t in rows], stopwords="en", show_progress=False),
                        show_progress=False)
        models[conv] = (retriever, [t.dia_id for t in rows])
    out = []
    for q in questions:
        retriever, ids = models[q.conversation]
        t0 = time.perf_counter()
        docs, scores = retriever.retrieve(bm25s.tokenize([q.text], stopwords="en", show_progress=False),
                                          k=min(10, len(ids)), show_progress=False)
        ms = (time.perf_counter() - t0) * 1000
        out.append({"ms": ms, "ids": [ids[i] for i, s in zip(docs[0], scores[0]) if s > 0]})
    return out


def score(questions, runs: list[dict]) -> dict:
    rows = [per_question(r["ids"][:10], q.evidence) for q, r in zip(questions, runs)]
    return summarise(questions, rows, [r["ms"] for r in runs])


def survival(questions, runs: list[dict]) -> dict:
    """Over categories 1-4: evidence / non-evidence turns returned at relevance_threshold 0.7 (limit 100)."""
    kept = other = total = 0
    for q, r in zip(questions, runs):
        if q.category == 5:
            continue
        ids = set(r["ids"])
        kept += len(ids & q.evidence)
        other += len(ids - q.evidence)
        total += len(q.evidence)
    n = sum(1 for q in questions if q.category != 5)
    return {"evidence_kept": kept, "evidence_total": total, "other_kept": other, "questions": n}


def write_results(out: Path, results: dict, meta: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "retrieval.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    lines = ["# Retrieval on LoCoMo (evidence turns)", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}  ",
             f"Data: {meta['memories']} dialogue turns as memories of {meta['users']} users, {meta['questions']} questions "
             "with evidence (category 5 adversarial reported apart). Each question is a search with limit 10 and "
             "relevance_threshold 0; recall@k = share of its evidence turns among the first k results.", ""]
    for system, label in SYSTEMS.items():
        if system not in results:
            continue
        s = results[system]
        lines += [f"## {label}", "", "| category | n | R@1 | R@5 | R@10 | MRR |", "|---|---|---|---|---|---|"]
        for g in GROUPS:
            if g in s:
                v = s[g]
                lines.append(f"| {g} | {v['n']} | {v['R@1']:.3f} | {v['R@5']:.3f} | {v['R@10']:.3f} | {v['MRR']:.3f} |")
        lines += ["", f"Search latency p50 {s['latency']['p50']:.1f} ms, p95 {s['latency']['p95']:.1f} ms "
                  f"({s.get('latency_note', 'HTTP round trip, one client')}).", ""]
    lines += ["## Recall@5 side by side", "", "| system | " + " | ".join(GROUPS) + " | p50 ms | p95 ms |",
              "|---|" + "---|" * (len(GROUPS) + 2)]
    for system, label in SYSTEMS.items():
        if system in results:
            s = results[system]
            lines.append(f"| {label} | " + " | ".join(f"{s[g]['R@5']:.3f}" for g in GROUPS if g in s)
                         + f" | {s['latency']['p50']:.1f} | {s['latency']['p95']:.1f} |")
    for system in ("service", "dense", "service_pg"):
        surv = results.get(system, {}).get("survival")
        if surv:
            lines += ["", f"**Default threshold 0.7, {SYSTEMS[system]}** (categories 1-4, limit 100): "
                      f"{surv['evidence_kept']} of {surv['evidence_total']} evidence turns survive "
                      f"({surv['evidence_kept'] / surv['evidence_total']:.0%}), together with {surv['other_kept']} "
                      f"non-evidence turns ({surv['other_kept'] / surv['questions']:.1f} per question; a conversation "
                      f"has ~{meta['memories'] // meta['users']} turns)."]
    lines += ["", "Notes", "",
              "- mem0's own BM25 re-ranking and entity boosts need a fastembed model and a spaCy model fetched from a "
              "model hub at run time; without network they are disabled, so (b) is mem0's semantic path over the same "
              "vectors and local Qdrant. Its latency includes mem0's in-process overhead, not HTTP.",
              "- BM25 (a) runs in process (no HTTP), so its latency is not comparable with (c)/(d).",
              "- Memories are created with type `interaction`, which is exempt from the service's exact-duplicate "
              "merging (LoCoMo repeats short turns such as greetings).", ""]
    (out / "retrieval.md").write_text("\n".join(lines))
    plot(out / "retrieval.png", results)


def plot(path: Path, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [s for s in SYSTEMS if s in results]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(systems)
    x = np.arange(len(GROUPS))
    for n, system in enumerate(systems):
        ax.bar(x + n * width - 0.4 + width / 2, [results[system].get(g, {}).get("R@5", 0) for g in GROUPS], width,
               label=SYSTEMS[system])
    ax.set_xticks(x, GROUPS)
    ax.set_ylabel("evidence recall@5")
    ax.set_ylim(0, 1.35 * max(results[s].get(g, {}).get("R@5", 0) for s in systems for g in GROUPS))
    ax.set_title("LoCoMo: recall@5 of evidence turns by question category")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def measure(data_dir: Path, env: dict[str, str], questions, turns: list, ingest_mode: str) -> tuple[dict, float]:
    """One service on `data_dir`: load `turns` (if any), then every question at limit 10 / threshold 0 for recall
    and at limit 100 / the default threshold for what survives it."""
    service = start_service(data_dir, env=env)
    try:
        ingest_s = asyncio.run(ingest(service.url, service.api_key, turns, ingest_mode)) if turns else 0.0
        runs = asyncio.run(search_all(service.url, service.api_key, questions, limit=10, threshold=0.0))
        result = score(questions, runs)
        strict = asyncio.run(search_all(service.url, service.api_key, questions, limit=100, threshold=0.7))
        result["survival"] = survival(questions, strict)
        return result, ingest_s
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo10.json")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--skip-mem0", action="store_true", help="leave out the mem0 OSS peer")
    parser.add_argument("--mem0-from", type=Path, default=None,
                        help="take the mem0 peer's numbers from an earlier retrieval.json instead of running it "
                             "(it does not depend on this service's code)")
    parser.add_argument("--skip-postgres", action="store_true",
                        help="leave out the run on PostgreSQL records (needs PostgreSQL at 127.0.0.1:5432)")
    parser.add_argument("--ingest", choices=["batch", "single"], default="batch",
                        help="load turns with POST /api/memories/batch (default) or one POST /api/memories each")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the service processes on the way out
    if not args.data.exists():
        sys.exit(f"LoCoMo not found at {args.data}: download locomo10.json and pass --data PATH")
    turns, questions = load(args.data)
    flat = [t for rows in turns.values() for t in rows]
    results: dict = {}
    log(f"{len(flat)} turns, {len(questions)} questions")

    log("BM25")
    results["bm25"] = score(questions, run_bm25(turns, questions))
    results["bm25"]["latency_note"] = "in process, no HTTP"

    data_dir = WORK / "retrieval-service"
    shutil.rmtree(data_dir, ignore_errors=True)
    results["service"], ingest_s = measure(data_dir, {}, questions, flat, args.ingest)
    log(f"ingested in {ingest_s:.1f}s ({len(flat) / ingest_s:.0f}/s)")
    log(f"service R@5 {results['service']['1-4']['R@5']:.3f}")
    results["dense"], _ = measure(data_dir, {"MEM0_KEYWORD_WEIGHT": "0"}, questions, [], args.ingest)
    log(f"dense R@5 {results['dense']['1-4']['R@5']:.3f}")
    if not args.skip_postgres:
        pg_dir = WORK / "retrieval-service-pg"
        shutil.rmtree(pg_dir, ignore_errors=True)
        with fresh_database("mem0_bench") as url:
            results["service_pg"], _ = measure(pg_dir, {"DATABASE_URL": url}, questions, flat, args.ingest)
        log(f"PostgreSQL records R@5 {results['service_pg']['1-4']['R@5']:.3f}")

    if args.mem0_from:
        results["mem0"] = json.loads(args.mem0_from.read_text())["results"]["mem0"]
        results["mem0"]["latency_note"] = (f"in process, mem0 Python API, no HTTP; from {args.mem0_from.name} "
                                           "of an earlier run on the same data")
    elif not args.skip_mem0:
        log("mem0 OSS (its own venv under bench/.work)")
        shutil.rmtree(WORK / "retrieval-mem0", ignore_errors=True)
        job = {"work_dir": str(WORK / "retrieval-mem0"),
               "memories": [{"content": t.content, "user_id": f"locomo-{t.conversation}",
                             "metadata": {"dia_id": t.dia_id, "session": t.session, "session_date": t.session_date}}
                            for t in flat],
               "queries": [{"query": q.text, "user_id": f"locomo-{q.conversation}", "limit": 10} for q in questions]}
        peer = run_mem0(job, "retrieval-mem0", timeout=1500)
        results["mem0"] = score(questions, peer["searches"])
        results["mem0"]["latency_note"] = "in process, mem0 Python API, no HTTP"
        results["mem0"]["ingest_s"] = peer["add_s"]
        log(f"mem0 R@5 {results['mem0']['1-4']['R@5']:.3f}")

    flags = ((" --skip-mem0" if args.skip_mem0 else "") + (f" --mem0-from {args.mem0_from}" if args.mem0_from else "")
             + (" --skip-postgres" if args.skip_postgres else "")
             + (" --ingest single" if args.ingest == "single" else ""))
    meta = {"command": f"make bench-retrieval  (= .venv/bin/python -m bench.retrieval{flags})",
            "machine": machine_note(), "memories": len(flat), "users": len(turns), "questions": len(questions),
            "service_ingest_s": ingest_s}
    write_results(args.out, results, meta)
    log(f"wrote {args.out / 'retrieval.md'}")


if __name__ == "__main__":
    main()
