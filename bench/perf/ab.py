"""Search latency of two versions of the service on the same data, taken in turns on the same machine state.

Loads the bench.perf data set (N memories, typical users of ~100 plus one heavy user) once, then restarts the
service on it alternately with each version's code (A, B, A, B, ...) and measures single-client searches of
typical users and of the heavy user. Alternating keeps a shared machine's changing load from favouring either.

    .venv/bin/python -m bench.perf.ab --a /path/to/old/checkout --b . [--n 100000] [--rounds 2] [--duration 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
from pathlib import Path

import numpy as np

from bench.common import RESULTS, WORK, machine_note, session, start_service
from bench.perf.__main__ import batch_import, load_level, log, make_memories, make_queries

DURATIONS = "mem0_dependency_duration_seconds"


def code_env(checkout: Path) -> dict[str, str]:
    root = checkout.resolve()
    return {"PYTHONPATH": f"{root / 'service'}:{root}"}


def as_conversations(memories: list[dict], queries: list[dict], rng: random.Random, turns: int = 25) -> None:
    """Memories become turns of conversations (in their users' order of creation), queries name the user half the time."""
    seen: dict[str, int] = {}
    for memory in memories:
        n = seen[memory["user_id"]] = seen.get(memory["user_id"], -1) + 1
        memory.update(type="interaction", session_id=f"chat-{n // turns}")
    for query in queries:
        if rng.random() < 0.5:
            query["query"] = f"What does the user say about {query['query'].rstrip('?')}?"


async def operation_totals(url: str, key: str) -> dict[str, tuple[float, float]]:
    """{"dependency.operation": (seconds, calls)} so far, from the service's /metrics."""
    async with session(key) as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    totals: dict[str, list[float]] = {}
    for line in text.splitlines():
        if not line.startswith((f"{DURATIONS}_sum{{", f"{DURATIONS}_count{{")):
            continue
        series, value = line.rsplit(" ", 1)
        pairs = (part.split("=", 1) for part in series[series.index("{") + 1:-1].split(","))
        labels = {label: value.strip('"') for label, value in pairs}
        name = f"{labels['dependency']}.{labels['operation']}"
        totals.setdefault(name, [0.0, 0.0])[0 if series.startswith(f"{DURATIONS}_sum") else 1] = float(value)
    return {name: (sum_, count) for name, (sum_, count) in totals.items()}


def per_search(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]],
               searches: int) -> dict[str, float]:
    """Milliseconds each dependency operation took per search between two readings of /metrics."""
    return {name: (after[name][0] - before.get(name, (0.0, 0.0))[0]) * 1000 / searches
            for name in sorted(after) if after[name][1] > before.get(name, (0.0, 0.0))[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", type=Path, required=True, help="checkout of version A (holds service/)")
    parser.add_argument("--b", type=Path, required=True, help="checkout of version B")
    parser.add_argument("--n", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "perf-ab.json")
    parser.add_argument("--conversations", action="store_true",
                        help="store every memory as a conversation turn (type interaction, sessions of 25 turns) and "
                             "name the user in half the queries: the search's context and subject paths at full cost")
    args = parser.parse_args()
    rng = random.Random(12)
    memories = make_memories(args.n, min(20000, args.n // 5), 100, rng)
    typical = sorted({m["user_id"] for m in memories if m["user_id"] != "heavy-user"})
    queries = make_queries(400, typical, rng)
    if args.conversations:
        as_conversations(memories, queries, rng)
    heavy = [dict(q, user_id="heavy-user") for q in queries]

    data_dir = WORK / "perf-ab"
    shutil.rmtree(data_dir, ignore_errors=True)
    service = start_service(data_dir, code_env(args.a))
    try:
        seconds = asyncio.run(batch_import(service.url, service.api_key, memories))
        log(f"imported {args.n} in {seconds:.0f}s")
    finally:
        service.stop()

    samples: dict[str, dict[str, list[float]]] = {v: {"typical": [], "heavy": []} for v in ("a", "b")}
    for round_ in range(args.rounds):
        for version, checkout in (("a", args.a), ("b", args.b)):
            service = start_service(data_dir, code_env(checkout))
            try:
                for kind, qs in (("typical", queries), ("heavy", heavy)):
                    before = asyncio.run(operation_totals(service.url, service.api_key))
                    row = asyncio.run(load_level(service.url, service.api_key, qs, 1, args.duration))
                    after = asyncio.run(operation_totals(service.url, service.api_key))
                    row["operations"] = per_search(before, after, row["requests"])
                    samples[version][kind].append(row)
                    log(f"round {round_ + 1} {version} {kind}: p50 {row['p50']:.1f} p95 {row['p95']:.1f} ms")
            finally:
                service.stop()
    summary = {v: {k: {"p50": float(np.median([r["p50"] for r in rows])), "p95": float(np.median([r["p95"] for r in rows])),
                       "operations": {name: float(np.median([r["operations"].get(name, 0.0) for r in rows]))
                                      for name in sorted({n for r in rows for n in r["operations"]})},
                       "rounds": rows} for k, rows in kinds.items()} for v, kinds in samples.items()}
    args.out.write_text(json.dumps({"n": args.n, "a": str(args.a), "b": str(args.b), "machine": machine_note(),
                                    "summary": summary}, indent=1) + "\n")
    write_md(args.out.with_suffix(".md"), json.loads(args.out.read_text()))
    plot(args.out.with_suffix(".png"), json.loads(args.out.read_text()))
    for v in ("a", "b"):
        log(f"{v}: typical p50/p95 {summary[v]['typical']['p50']:.1f}/{summary[v]['typical']['p95']:.1f} ms, "
            f"heavy {summary[v]['heavy']['p50']:.1f}/{summary[v]['heavy']['p95']:.1f} ms")


def write_md(path: Path, result: dict) -> None:
    lines = [f"# Search latency A/B, {result['n']:,} memories, 1 client", "",
             f"A = `{result['a']}`, B = `{result['b']}`, restarted in alternation on the same data "
             "(`python -m bench.perf.ab`).  ", f"Machine: {result['machine']}", "",
             "| version | round | typical p50 ms | typical p95 ms | heavy user p50 ms | heavy user p95 ms |",
             "|---|---|---|---|---|---|"]
    for v in ("a", "b"):
        s = result["summary"][v]
        for n, (t, h) in enumerate(zip(s["typical"]["rounds"], s["heavy"]["rounds"]), 1):
            lines.append(f"| {v.upper()} | {n} | {t['p50']:.1f} | {t['p95']:.1f} | {h['p50']:.1f} | {h['p95']:.1f} |")
        lines.append(f"| {v.upper()} | median | {s['typical']['p50']:.1f} | {s['typical']['p95']:.1f} "
                     f"| {s['heavy']['p50']:.1f} | {s['heavy']['p95']:.1f} |")
    operations = {v: result["summary"][v]["heavy"].get("operations", {}) for v in ("a", "b")}
    if operations["a"] or operations["b"]:
        lines += ["", "Where the heavy user's search spends its time: mean ms per search of each dependency call "
                  "(/metrics, median of the rounds; calls that run concurrently overlap, so they add up to more "
                  "than the latency).", "", "| dependency call | A ms | B ms |", "|---|---|---|"]
        for name in sorted(set(operations["a"]) | set(operations["b"])):
            lines.append(f"| {name} | {operations['a'].get(name, 0.0):.2f} | {operations['b'].get(name, 0.0):.2f} |")
    lines += ["", f"![Each round's latencies and the heavy user's time per dependency call]({path.with_suffix('.png').name})"]
    path.write_text("\n".join(lines) + "\n")


def plot(path: Path, result: dict) -> None:
    """Each version's rounds (p50 and p95) for both kinds of user, and where the heavy user's search spends its time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (latency, parts) = plt.subplots(1, 2, figsize=(12, 4.2))
    summary = result["summary"]
    for offset, (version, colour) in enumerate((("a", "tab:grey"), ("b", "tab:blue"))):
        for position, kind in enumerate(("typical", "heavy")):
            rounds = summary[version][kind]["rounds"]
            for quantile, marker in (("p50", "o"), ("p95", "^")):
                x = [position * 2 + offset * 0.5 + n * 0.1 for n in range(len(rounds))]
                latency.scatter(x, [r[quantile] for r in rounds], color=colour, marker=marker,
                                label=f"{version.upper()} {quantile}" if position == 0 else None)
    latency.set_xticks([0.35, 2.35], ["typical users", "the 20k-memory user"])
    latency.set_ylabel("search latency, ms (each round)")
    latency.set_ylim(bottom=0)
    latency.legend(fontsize=8)
    names = sorted(set(summary["a"]["heavy"].get("operations", {})) | set(summary["b"]["heavy"].get("operations", {})))
    for offset, (version, colour) in enumerate((("a", "tab:grey"), ("b", "tab:blue"))):
        spent = summary[version]["heavy"].get("operations", {})
        parts.barh([n + offset * 0.4 for n in range(len(names))], [spent.get(name, 0.0) for name in names], height=0.4,
                   color=colour, label=version.upper())
    parts.set_yticks([n + 0.2 for n in range(len(names))], names, fontsize=8)
    parts.set_xlabel("ms per search, the 20k-memory user (calls overlap)")
    parts.legend(fontsize=8)
    fig.suptitle(f"Search A/B, {result['n']:,} memories, 1 client: A = {result['a']}, B = {result['b']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
