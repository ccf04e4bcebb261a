"""Soak: a mixed workload for a bounded time (10 minutes by default), watching that memory use stays flat.

Seeds the service with memories, then runs concurrent clients that search, create, update, list and delete
through the HTTP API until the time is up, sampling the service's RSS, threads and open files every few seconds.
Reports the RSS trend over the second half of the run (after caches and allocator arenas have warmed up), the
latency per minute and every error. Writes results/soak.md, soak.json and soak.png.

    .venv/bin/python -m bench.soak [--minutes 10] [--seed 20000] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import RESULTS, WORK, machine_note, session, start_service
from bench.perf.__main__ import batch_import, log, make_memories, make_queries, pct

# Out of 100 operations; searches dominate real assistant traffic, writes keep the index changing under them.
# As many deletes as creates: the number of memories stays about constant, so a rising RSS would be the process
# growing (a leak, caches, the allocator), not the data.
MIX = {"search": 70, "create": 10, "update": 5, "list": 5, "delete": 10}


def process_sample(pid: int) -> dict:
    proc = Path(f"/proc/{pid}")
    status = {line.split(":")[0]: line.split(":")[1].strip() for line in (proc / "status").read_text().splitlines()}
    return {"rss_kib": int(status["VmRSS"].split()[0]), "threads": int(status["Threads"]),
            "fds": sum(1 for _ in (proc / "fd").iterdir())}


class Workload:
    """Clients drawing operations from MIX; each client deletes and updates only memories it created."""

    def __init__(self, url: str, key: str, users: list[str], queries: list[dict], seed: int):
        self.url, self.key, self.users, self.queries = url, key, users, queries
        self.rng = random.Random(seed)
        self.ops = [op for op, weight in MIX.items() for _ in range(weight)]
        self.samples: list[tuple[float, str, float, int]] = []  # (time, operation, ms, status)
        self.created = 0

    async def client(self, n: int, stop_at: float, started: float) -> None:
        mine: list[tuple[str, str]] = []
        async with session(self.key, limit=1) as http:
            while time.perf_counter() < stop_at:
                op = self.rng.choice(self.ops)
                if op in ("update", "delete") and not mine:
                    op = "create"
                t0 = time.perf_counter()
                status = await getattr(self, op)(http, mine, n)
                self.samples.append((t0 - started, op, (time.perf_counter() - t0) * 1000, status))

    async def search(self, http, mine, n) -> int:
        async with http.post(f"{self.url}/api/memories/search", json=self.rng.choice(self.queries)) as r:
            await r.read()
            return r.status

    async def create(self, http, mine, n) -> int:
        user = self.rng.choice(self.users)
        self.created += 1
        body = {"user_id": user, "content": f"Soak client {n} note {self.created}: likes item {self.rng.randint(1, 10**6)}",
                "metadata": {"soak": True}}
        async with http.post(f"{self.url}/api/memories", json=body) as r:
            data = await r.json()
            if r.status in (200, 201):
                mine.append((data["id"], user))
            return r.status

    async def update(self, http, mine, n) -> int:
        memory_id, _ = self.rng.choice(mine)
        async with http.put(f"{self.url}/api/memories/{memory_id}",
                            json={"content": f"Updated by soak client {n}: {self.rng.random():.6f}"}) as r:
            await r.read()
            return r.status

    async def list(self, http, mine, n) -> int:
        user = self.rng.choice(self.users)
        async with http.get(f"{self.url}/api/memories/user/{user}", params={"limit": 20}) as r:
            await r.read()
            return r.status

    async def delete(self, http, mine, n) -> int:
        memory_id, _ = mine.pop(self.rng.randrange(len(mine)))
        async with http.delete(f"{self.url}/api/memories/{memory_id}") as r:
            await r.read()
            return r.status


async def soak(service, workload: Workload, clients: int, seconds: float, every: float) -> list[dict]:
    started = time.perf_counter()
    stop_at = started + seconds
    trace: list[dict] = []

    async def watch() -> None:
        while time.perf_counter() < stop_at:
            trace.append({"t": time.perf_counter() - started, "requests": len(workload.samples),
                          **process_sample(service.process.pid)})
            await asyncio.sleep(every)

    await asyncio.gather(watch(), *(workload.client(n, stop_at, started) for n in range(clients)))
    trace.append({"t": time.perf_counter() - started, "requests": len(workload.samples),
                  **process_sample(service.process.pid)})
    return trace


def summarise(trace: list[dict], samples: list[tuple], seconds: float) -> dict:
    half = [p for p in trace if p["t"] >= seconds / 2]
    t = np.array([p["t"] for p in half]) / 60
    rss = np.array([p["rss_kib"] for p in half]) / 1024
    slope = float(np.polyfit(t, rss, 1)[0]) if len(half) > 2 else float("nan")
    minutes = []
    for m in range(int(np.ceil(seconds / 60))):
        window = [s for s in samples if m * 60 <= s[0] < (m + 1) * 60]
        searches = [s[2] for s in window if s[1] == "search"]
        writes = [s[2] for s in window if s[1] in ("create", "update", "delete")]
        minutes.append({"minute": m + 1, "requests": len(window), "errors": sum(s[3] >= 400 for s in window),
                        "search_p50": pct(searches, 50), "search_p95": pct(searches, 95),
                        "write_p50": pct(writes, 50), "write_p95": pct(writes, 95),
                        "rss_mib": max((p["rss_kib"] for p in trace if m * 60 <= p["t"] < (m + 1) * 60),
                                       default=0) / 1024})
    by_status: dict[str, int] = {}
    for s in samples:
        by_status[str(s[3])] = by_status.get(str(s[3]), 0) + 1
    return {"rss_slope_mib_per_min": slope, "rss_first_mib": trace[0]["rss_kib"] / 1024,
            "rss_half_mib": half[0]["rss_kib"] / 1024 if half else float("nan"),
            "rss_end_mib": trace[-1]["rss_kib"] / 1024, "rss_max_mib": max(p["rss_kib"] for p in trace) / 1024,
            "threads": (min(p["threads"] for p in trace), max(p["threads"] for p in trace)),
            "fds": (min(p["fds"] for p in trace), max(p["fds"] for p in trace)),
            "requests": len(samples), "statuses": by_status, "minutes": minutes,
            "created": sum(s[1] == "create" and s[3] < 300 for s in samples),
            "deleted": sum(s[1] == "delete" and s[3] < 300 for s in samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak (bounded: at most 10)")
    parser.add_argument("--seed", type=int, default=20000, help="memories loaded before the soak")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seconds = min(args.minutes, 10.0) * 60
    rng = random.Random(5)
    memories = make_memories(args.seed, 0, 100, rng)
    users = sorted({m["user_id"] for m in memories})
    queries = make_queries(500, users, rng)
    data_dir = WORK / "soak"
    shutil.rmtree(data_dir, ignore_errors=True)
    service = start_service(data_dir)
    try:
        log(f"seeding {args.seed} memories")
        asyncio.run(batch_import(service.url, service.api_key, memories))
        log(f"soaking for {seconds / 60:.0f} min with {args.clients} clients")
        workload = Workload(service.url, service.api_key, users, queries, seed=9)
        trace = asyncio.run(soak(service, workload, args.clients, seconds, args.every))
    finally:
        service.stop()
    res = {"seed": args.seed, "clients": args.clients, "seconds": seconds, "mix": MIX, "trace": trace,
           **summarise(trace, workload.samples, seconds), "machine": machine_note(),
           "command": "make bench-soak  (= .venv/bin/python -m bench.soak " + " ".join(sys.argv[1:]) + ")"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(res, indent=1))
    write_markdown(args.out / "soak.md", res)
    plot(args.out / "soak.png", res)
    log(f"RSS {res['rss_first_mib']:.0f} -> {res['rss_end_mib']:.0f} MiB, second-half slope "
        f"{res['rss_slope_mib_per_min']:+.2f} MiB/min, {res['requests']} requests, statuses {res['statuses']}")


def write_markdown(path: Path, r: dict) -> None:
    mix = ", ".join(f"{op} {share}%" for op, share in r["mix"].items())
    lines = [f"# Soak: {r['seconds'] / 60:.0f} minutes of mixed traffic, {r['clients']} clients", "",
             f"Command: `{r['command']}`  ", f"Machine: {r['machine']}.", "",
             f"Seeded with {r['seed']:,} memories, then a closed loop of {r['clients']} clients ({mix}) through the "
             "HTTP API on loopback; RSS, threads and open files of the service sampled every few seconds.", "",
             "| measure | value |", "|---|---|",
             f"| requests | {r['requests']:,} ({r['requests'] / r['seconds']:.0f}/s) |",
             f"| responses by status | {', '.join(f'{k}: {v:,}' for k, v in sorted(r['statuses'].items()))} |",
             f"| RSS at start / half-time / end (max) | {r['rss_first_mib']:.0f} / {r['rss_half_mib']:.0f} / "
             f"{r['rss_end_mib']:.0f} MiB ({r['rss_max_mib']:.0f}) |",
             f"| RSS trend over the second half | {r['rss_slope_mib_per_min']:+.2f} MiB per minute |",
             f"| threads (min-max) | {r['threads'][0]}-{r['threads'][1]} |",
             f"| open files (min-max) | {r['fds'][0]}-{r['fds'][1]} |", "",
             "| minute | requests | errors | search p50 / p95 ms | write p50 / p95 ms | max RSS MiB |",
             "|---|---|---|---|---|---|"]
    for m in r["minutes"]:
        lines.append(f"| {m['minute']} | {m['requests']:,} | {m['errors']} | {m['search_p50']:.1f} / "
                     f"{m['search_p95']:.1f} | {m['write_p50']:.1f} / {m['write_p95']:.1f} | {m['rss_mib']:.0f} |")
    lines += ["", f"Deletes balance creates ({r['created']:,} memories created, {r['deleted']:,} deleted during the "
              f"run), so the number of memories ends where it began (+{r['created'] - r['deleted']:,}); "
              "an upward RSS trend would be the process growing, not the data."]
    path.write_text("\n".join(lines) + "\n")


def plot(path: Path, r: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [p["t"] / 60 for p in r["trace"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(t, [p["rss_kib"] / 1024 for p in r["trace"]], color="tab:blue")
    a.set_xlabel("minutes")
    a.set_ylabel("service RSS, MiB")
    a.set_ylim(bottom=0)
    minutes = [m["minute"] for m in r["minutes"]]
    b.plot(minutes, [m["search_p50"] for m in r["minutes"]], "o-", label="search p50")
    b.plot(minutes, [m["search_p95"] for m in r["minutes"]], "s--", label="search p95")
    b.plot(minutes, [m["write_p95"] for m in r["minutes"]], "^:", label="write p95")
    b.set_xlabel("minute")
    b.set_ylabel("ms")
    b.set_ylim(bottom=0)
    b.legend(fontsize=8)
    fig.suptitle(f"Soak, {r['seconds'] / 60:.0f} min, {r['clients']} clients, seeded with {r['seed']:,} memories")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
