"""Speed of the service through its HTTP API, with mem0 OSS on the same data as the peer.

Generates N memories over many users (about 100 each) plus one heavy user, loads them with
POST /api/memories/batch, then measures on loopback with a bounded aiohttp client: single-create latency,
batch import throughput, search latency p50/p95/p99 and requests/s at 1, 8 and 32 concurrent clients (typical
users and the heavy user), RSS and disk per 100k memories, the embedding time alone on the same queries, and
a profile of the search path (py-spy, all threads).

    .venv/bin/python -m bench.perf [--n 10000] [--heavy 2000] [--duration 15] [--skip-mem0] [--mem0-n 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import REPO, RESULTS, WORK, bounded, machine_note, run_mem0, session, start_service
from tests.support.service_process import child_pids

NAMES = ["Anna", "Boris", "Chen", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Irina", "Jonas", "Kira", "Lev"]
EN = ["{n} prefers {x} in the morning", "{n} is allergic to {x}", "{n} works on project {p} with {x}",
      "{n} wants short answers about {x}", "{n} visited {c} last {d} and liked the {x}",
      "{n}'s favourite topic is {x}", "{n} asked to be reminded about {x} every {d}",
      "Meeting with {n} about {x} moved to {d}"]
RU = ["{n} предпочитает {xr} по утрам", "У {n} аллергия на {xr}", "{n} работает над проектом {p}: {xr}",
      "{n} просит напоминать про {xr} каждый {dr}", "{n} был в городе {c} и запомнил {xr}"]
THINGS = ["green tea", "black coffee", "peanuts", "jazz records", "the garden", "Python typing", "Rust async",
          "marathon training", "Thai curry", "board games", "email digests", "push notifications", "sailing",
          "the quarterly report", "database backups", "Kubernetes upgrades", "Italian lessons", "vinyl"]
THINGS_RU = ["зелёный чай", "чёрный кофе", "арахис", "джаз", "сад", "бег", "отчёт", "резервные копии", "итальянский"]
CITIES = ["Kazan", "Lisbon", "Oslo", "Tbilisi", "Kyoto", "Porto", "Riga"]
DAYS = ["Monday", "Friday", "weekend", "month"]
DAYS_RU = ["понедельник", "вечер", "месяц"]
QUERIES = ["What does {n} drink in the morning?", "Is {n} allergic to anything?", "Which projects is {n} on?",
           "How should answers be written for {n}?", "Where did {n} travel?", "Что любит {n}?",
           "Какие напоминания нужны {n}?", "reminders about {x}", "{x}", "Что {n} знает про {xr}?"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def make_memories(n: int, heavy: int, per_user: int, rng: random.Random) -> list[dict]:
    out = []
    users = max(1, (n - heavy) // per_user)
    for i in range(n):
        user = "heavy-user" if i < heavy else f"user-{(i - heavy) % users:05d}"
        t = rng.choice(EN + RU) if rng.random() < 0.8 else rng.choice(RU)
        text = t.format(n=rng.choice(NAMES), x=rng.choice(THINGS), xr=rng.choice(THINGS_RU), p=f"P{rng.randint(1, 999)}",
                        c=rng.choice(CITIES), d=rng.choice(DAYS), dr=rng.choice(DAYS_RU))
        out.append({"user_id": user, "content": f"{text} (note {i})", "type": "fact", "metadata": {"seq": i}})
    return out


def make_queries(count: int, users: list[str], rng: random.Random) -> list[dict]:
    return [{"user_id": rng.choice(users), "query": rng.choice(QUERIES).format(
        n=rng.choice(NAMES), x=rng.choice(THINGS), xr=rng.choice(THINGS_RU)), "limit": 5, "relevance_threshold": 0.0}
        for _ in range(count)]


def pct(values, p) -> float:
    return float(np.percentile(values, p)) if len(values) else float("nan")


def rss_kib(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    grab = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))}
    return grab.get("VmRSS", 0), grab.get("VmHWM", 0)


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and f.name != "service.log")


async def single_creates(url: str, key: str, count: int) -> list[float]:
    lat = []
    async with session(key, limit=1) as http:
        for i in range(count):
            body = {"user_id": "bench-single", "content": f"Single create number {i}: the user likes item {i * 7}"}
            t0 = time.perf_counter()
            async with http.post(f"{url}/api/memories", json=body) as r:
                await r.read()
                assert r.status == 201, r.status
            lat.append((time.perf_counter() - t0) * 1000)
    return lat


async def batch_import(url: str, key: str, memories: list[dict], size: int = 500, concurrency: int = 2) -> float:
    done = 0
    started = time.perf_counter()
    async with session(key, limit=concurrency) as http:
        async def send(chunk):
            nonlocal done
            async with http.post(f"{url}/api/memories/batch", json={"memories": chunk},
                                 timeout=None) as r:
                body = await r.json()
                if r.status != 201 or body["failed"]:
                    raise RuntimeError(f"batch failed: {r.status} {str(body)[:300]}")
            done += len(chunk)
            if done % 10000 < size:
                log(f"  imported {done}/{len(memories)} ({done / (time.perf_counter() - started):.0f}/s)")
        await bounded([memories[i:i + size] for i in range(0, len(memories), size)], send, concurrency)
    return time.perf_counter() - started


async def load_level(url: str, key: str, queries: list[dict], clients: int, duration: float) -> dict:
    """Closed loop: `clients` workers each send the next query as soon as the previous answer arrives."""
    lat: list[float] = []
    own: list[float] = []  # server-side: the request's total minus the embedder's share (Server-Timing)
    errors = 0
    stop_at = time.perf_counter() + duration
    async with session(key, limit=clients) as http:
        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop_at:
                body = queries[i % len(queries)]
                i += clients
                t0 = time.perf_counter()
                async with http.post(f"{url}/api/memories/search", json=body) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                    spent = server_timing(r.headers.get("Server-Timing", ""))
                lat.append((time.perf_counter() - t0) * 1000)
                if "total" in spent:
                    own.append(spent["total"] - spent.get("embedder", 0.0))
        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": len(lat), "errors": errors, "rps": len(lat) / elapsed,
            "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
            "own_p50": pct(own, 50), "own_p95": pct(own, 95), "own_p99": pct(own, 99)}


def server_timing(header: str) -> dict[str, float]:
    """`embedder;dur=0.81, record_store;dur=1.20, total;dur=3.02` -> {"embedder": 0.81, ...} (ms)."""
    out = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";dur=")
        if rest:
            out[name] = float(rest)
    return out


def embed_alone(queries: list[dict]) -> dict:
    """The bundled embedder in this process on the same query texts: the part of a search that is the model."""
    sys.path.insert(0, str(REPO / "service"))
    from mem0_service.embedders.local import LocalEmbedder

    embedder = LocalEmbedder()
    asyncio.run(embedder.open())
    lat = []
    for q in queries:
        t0 = time.perf_counter()
        embedder._encode([q["query"]])
        lat.append((time.perf_counter() - t0) * 1000)
    return {"p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99)}


def profile_search(service, queries: list[dict], out: Path, seconds: float) -> str:
    """Sample every thread of the running service with py-spy while one client searches; summarise by frame."""
    from collections import Counter

    raw = WORK / (out.name + ".raw")
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(service.process.pid),
                            "-d", str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(raw)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    asyncio.run(load_level(service.url, service.api_key, queries, 1, seconds - 2))
    spy.wait(timeout=120)
    if not raw.exists():
        return "(py-spy could not attach)"
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in ("select (selectors", "epoll", "Condition.wait", "thread.py:81")):
            continue  # waiting, not working
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"# Where a search spends its time ({total} active samples over all threads, 1 client, py-spy)", "",
             "| share of busy samples | frame |", "|---|---|"]
    boring = ("<module>", "_run_code", "_run_module_as_main", "click/", "run_app", "run_forever", "run_until_complete",
              "_bootstrap", "Thread.run", "_worker", "Handle._run", "_run_once", "web_protocol", "web_app",
              "web_middlewares")
    for frame, count in inclusive.most_common(80):
        if not any(b in frame for b in boring):
            lines.append(f"| {count / total:.1%} | `{frame}` |")
    out.with_suffix(".md").write_text("\n".join(lines[:40]) + "\n")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000, help="memories in total")
    parser.add_argument("--heavy", type=int, default=None, help="memories of the one heavy user (default n/5, max 20000)")
    parser.add_argument("--per-user", type=int, default=100, help="memories per typical user")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per concurrency level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--skip-mem0", action="store_true")
    parser.add_argument("--mem0-n", type=int, default=10000,
                        help="mem0 gets the first M memories (0 = skip); its local Qdrant slows down with size")
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument("--pool", type=int, default=2, help="also measure searches with this many worker processes "
                        "(MEM0_WORKERS; 1 = skip)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default=None, help="result file suffix (default: the size, e.g. 10k)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    heavy = args.heavy if args.heavy is not None else min(20000, args.n // 5)
    tag = args.tag or (f"{args.n // 1000}k" if args.n % 1000 == 0 else str(args.n))
    levels = [int(x) for x in args.levels.split(",")]
    rng = random.Random(12)
    memories = make_memories(args.n, heavy, args.per_user, rng)
    typical_users = sorted({m["user_id"] for m in memories if m["user_id"] != "heavy-user"})
    queries = make_queries(400, typical_users, rng)
    heavy_queries = [dict(q, user_id="heavy-user") for q in queries]
    res: dict = {"n": args.n, "heavy": heavy, "users": len(typical_users) + (1 if heavy else 0)}

    data_dir = WORK / f"perf-{tag}"
    shutil.rmtree(data_dir, ignore_errors=True)
    service = start_service(data_dir)
    try:
        url, key = service.url, service.api_key
        lat = asyncio.run(single_creates(url, key, 200))
        res["single_create_ms"] = {"p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99)}
        log(f"single create p50 {res['single_create_ms']['p50']:.1f} ms")
        seconds = asyncio.run(batch_import(url, key, memories))
        res["import"] = {"seconds": seconds, "per_s": args.n / seconds}
        log(f"imported {args.n} in {seconds:.0f}s ({args.n / seconds:.0f}/s)")
        res["rss_after_import_kib"], res["hwm_after_import_kib"] = rss_kib(service.process.pid)
        service.stop()
        t0 = time.perf_counter()
        service.start(timeout=600)
        res["restart_s"] = time.perf_counter() - t0
        res["rss_after_restart_kib"], _ = rss_kib(service.process.pid)
        res["disk_bytes"] = disk_bytes(data_dir)
        res["search"], res["search_heavy"] = [], []
        for clients in levels:
            row = asyncio.run(load_level(url, key, queries, clients, args.duration))
            res["search"].append(row)
            log(f"search typical users, {clients} clients: p50 {row['p50']:.1f} p95 {row['p95']:.1f} ms, {row['rps']:.0f}/s")
            row = asyncio.run(load_level(url, key, heavy_queries, clients, args.duration))
            res["search_heavy"].append(row)
            log(f"search heavy user, {clients} clients: p50 {row['p50']:.1f} p95 {row['p95']:.1f} ms, {row['rps']:.0f}/s")
        res["rss_after_search_kib"], res["hwm_kib"] = rss_kib(service.process.pid)
        if not args.skip_profile:
            profile_search(service, heavy_queries, args.out / f"perf-{tag}-profile", 20)
            res["profile_file"] = f"perf-{tag}-profile.md"
            log("profile written")
    finally:
        service.stop()
    if args.pool > 1:
        res["pool"] = {"workers": args.pool, "search": [], "search_heavy": []}
        pool = start_service(data_dir, {"MEM0_WORKERS": str(args.pool), "MEM0_LOG_LEVEL": "INFO"})
        try:
            deadline = time.monotonic() + 600
            while f"worker {args.pool - 1} started" not in pool.log() and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(1.0)  # the last worker binds the port right after announcing itself
            for clients in levels:
                for key, qs in (("search", queries), ("search_heavy", heavy_queries)):
                    row = asyncio.run(load_level(pool.url, pool.api_key, qs, clients, args.duration))
                    res["pool"][key].append(row)
                    log(f"{args.pool} workers, {key}, {clients} clients: p50 {row['p50']:.1f} p95 {row['p95']:.1f} ms, "
                        f"{row['rps']:.0f}/s")
            res["pool"]["rss_kib"] = [rss_kib(pid)[0] for pid in child_pids(pool.process.pid)]
        finally:
            pool.stop()
    res["embed_ms"] = embed_alone(queries)
    log(f"embedding alone p50 {res['embed_ms']['p50']:.2f} ms")
    if not args.skip_mem0 and args.mem0_n:
        m = min(args.mem0_n, args.n)
        log(f"mem0 OSS on the first {m} memories (its own venv)")
        shutil.rmtree(WORK / f"perf-mem0-{tag}", ignore_errors=True)
        subset = memories[:m]
        sub_users = sorted({x["user_id"] for x in subset if x["user_id"] != "heavy-user"}) or ["heavy-user"]
        mq = [dict(q, user_id=sub_users[i % len(sub_users)]) for i, q in enumerate(queries[:200])]
        mq += [dict(q, user_id="heavy-user") for q in queries[:100]] if any(x["user_id"] == "heavy-user" for x in subset) else []
        peer = run_mem0({"work_dir": str(WORK / f"perf-mem0-{tag}"), "key": "seq",
                         "memories": [{"content": x["content"], "user_id": x["user_id"], "metadata": x["metadata"]}
                                      for x in subset],
                         "queries": [{"query": q["query"], "user_id": q["user_id"], "limit": 5} for q in mq]},
                        f"perf-mem0-{tag}", timeout=3000)
        s_typ = [s["ms"] for s, q in zip(peer["searches"], mq) if q["user_id"] != "heavy-user"]
        s_hvy = [s["ms"] for s, q in zip(peer["searches"], mq) if q["user_id"] == "heavy-user"]
        res["mem0"] = {"n": m, "add_per_s": m / peer["add_s"],
                       "add_ms": {"p50": pct(peer["add_ms"], 50), "p95": pct(peer["add_ms"], 95)},
                       "search_ms": {"p50": pct(s_typ, 50), "p95": pct(s_typ, 95), "p99": pct(s_typ, 99),
                                     "rps": 1000 / np.mean(s_typ)},
                       "search_heavy_ms": {"p50": pct(s_hvy, 50), "p95": pct(s_hvy, 95)} if s_hvy else None,
                       "embed_ms_mean": peer["embed_ms_mean"],
                       "disk_bytes": disk_bytes(WORK / f"perf-mem0-{tag}")}
        log(f"mem0 search p50 {res['mem0']['search_ms']['p50']:.1f} ms")
    res["machine"] = machine_note()
    res["command"] = "make bench-perf  (= .venv/bin/python -m bench.perf " + " ".join(sys.argv[1:]) + ")"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"perf-{tag}.json").write_text(json.dumps(res, indent=1))
    write_markdown(args.out / f"perf-{tag}.md", res)
    plot(args.out / f"perf-{tag}.png", res)
    log(f"wrote {args.out / f'perf-{tag}.md'}")


def write_markdown(path: Path, r: dict) -> None:
    n100k = 100000 / r["n"]
    lines = [f"# Performance, {r['n']:,} memories ({r['users']:,} users; heavy user {r['heavy']:,})", "",
             f"Command: `{r['command']}`  ", f"Machine: {r['machine']}. Loopback HTTP, aiohttp client in a separate "
             "process on the same 2 cores, so client and server compete for CPU.", "",
             "## Search (POST /api/memories/search, limit 5, threshold 0; closed loop)", "",
             "Latency is what the client saw. *Own* is the service's own share, measured by the service itself "
             "(its `Server-Timing` header: the request's total minus the embedding model's time): HTTP handling, "
             "validation, keyword and vector candidates, fusion, record loading and JSON.", "",
             "| users searched | processes | clients | requests | req/s | p50 ms | p95 ms | p99 ms | own p50 / p95 ms "
             "| errors |", "|---|---|---|---|---|---|---|---|---|---|"]
    pool = r.get("pool") or {}
    groups = [("typical (~100 memories)", 1, r["search"]), (f"heavy ({r['heavy']:,} memories)", 1, r["search_heavy"])]
    if pool:
        groups[1:1] = [("typical (~100 memories)", pool["workers"], pool["search"])]
        groups.append((f"heavy ({r['heavy']:,} memories)", pool["workers"], pool["search_heavy"]))
    for label, workers, rows in groups:
        for row in rows:
            own = (f"{row['own_p50']:.1f} / {row['own_p95']:.1f}" if row.get("own_p50") == row.get("own_p50")
                   and "own_p50" in row else "–")
            lines.append(f"| {label} | {workers} | {row['clients']} | {row['requests']} | {row['rps']:.0f} | "
                         f"{row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | {own} | {row['errors']} |")
    e = r["embed_ms"]
    one = r["search"][0]
    lines += ["", f"Embedding alone (bundled USE model, same queries, in process, one thread): p50 {e['p50']:.2f} ms, "
              f"p95 {e['p95']:.2f} ms, p99 {e['p99']:.2f} ms. At 1 client a typical search took {one['p50']:.1f} / "
              f"{one['p95']:.1f} ms (p50 / p95) at the client, of which the service's own work was "
              f"{one.get('own_p50', float('nan')):.1f} / {one.get('own_p95', float('nan')):.1f} ms; the rest is the "
              "model and the client's own HTTP stack, which shares the same 2 cores.", "",
              "## Writes and footprint", "", "| measure | value |", "|---|---|",
              f"| single create, 1 client (POST /api/memories) | p50 {r['single_create_ms']['p50']:.1f} ms, p95 "
              f"{r['single_create_ms']['p95']:.1f} ms, p99 {r['single_create_ms']['p99']:.1f} ms |",
              f"| batch import (POST /api/memories/batch, 500 a request, 2 in flight) | {r['import']['per_s']:.0f} "
              f"memories/s ({r['import']['seconds']:.0f} s for {r['n']:,}) |",
              f"| RSS after import / after restart / after the search runs | {r['rss_after_import_kib'] / 1024:.0f} / "
              f"{r['rss_after_restart_kib'] / 1024:.0f} / {r['rss_after_search_kib'] / 1024:.0f} MiB (peak "
              f"{r['hwm_kib'] / 1024:.0f} MiB) |",
              *([f"| RSS of each of the {pool['workers']} worker processes after their search runs | "
                 + " / ".join(f"{k / 1024:.0f}" for k in pool.get("rss_kib", [])) + " MiB |"] if pool else []),
              f"| disk (records + vectors + WAL) | {r['disk_bytes'] / 2**20:.0f} MiB, i.e. "
              f"{r['disk_bytes'] * n100k / 2**20:.0f} MiB per 100k memories |",
              f"| restart with this data (vectors loaded into memory) | {r['restart_s']:.1f} s |"]
    m = r.get("mem0")
    if m:
        best = max(row["rps"] for row in r["search"])
        lines += ["", f"## mem0 OSS 2.2.1 on the first {m['n']:,} of the same memories (infer=False, same USE model, "
                  "local Qdrant, Python API in process: no HTTP)", "",
                  "| measure | mem0 OSS | this service | service advantage (> 1 = service better) |", "|---|---|---|---|",
                  f"| search p50 / p95, 1 client, typical users | {m['search_ms']['p50']:.1f} / {m['search_ms']['p95']:.1f} ms"
                  f" | {one['p50']:.1f} / {one['p95']:.1f} ms | {m['search_ms']['p50'] / one['p50']:.1f}x / "
                  f"{m['search_ms']['p95'] / one['p95']:.1f}x |",
                  f"| search throughput | {m['search_ms']['rps']:.0f}/s (one process, sequential) | {best:.0f}/s (best "
                  f"level) | {best / m['search_ms']['rps']:.1f}x |",
                  f"| add, one at a time | p50 {m['add_ms']['p50']:.1f} ms ({m['add_per_s']:.0f}/s) | p50 "
                  f"{r['single_create_ms']['p50']:.1f} ms (HTTP) | {m['add_ms']['p50'] / r['single_create_ms']['p50']:.1f}x |",
                  f"| bulk load | {m['add_per_s']:.0f}/s (no batch API in mem0 OSS) | {r['import']['per_s']:.0f}/s "
                  f"| {r['import']['per_s'] / m['add_per_s']:.1f}x |",
                  f"| disk | {m['disk_bytes'] / 2**20:.0f} MiB for {m['n']:,} | "
                  f"{r['disk_bytes'] * m['n'] / r['n'] / 2**20:.0f} MiB (prorated) | |"]
        if m.get("search_heavy_ms"):
            lines.append(f"| search p50 / p95, heavy user | {m['search_heavy_ms']['p50']:.1f} / "
                         f"{m['search_heavy_ms']['p95']:.1f} ms | {r['search_heavy'][0]['p50']:.1f} / "
                         f"{r['search_heavy'][0]['p95']:.1f} ms | |")
    if not m:
        lines += ["", "mem0 OSS was not run at this size (`--mem0-n 0`): its local Qdrant mode scans every point in "
                  "Python, so its search time grows with the whole collection; see the 10k results for the same-run "
                  "comparison."]
    if r.get("profile_file"):
        lines += ["", f"Profile of the search path (heavy user, 1 client, py-spy over all threads): `{r['profile_file']}`."]
    path.write_text("\n".join(lines) + "\n")


def plot(path: Path, r: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for label, rows, style in (("typical users", r["search"], "o-"), ("heavy user", r["search_heavy"], "s--")):
        c = [row["clients"] for row in rows]
        for key, colour in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:red")):
            a.plot(c, [row[key] for row in rows], style, color=colour, label=f"{label} {key}")
        b.plot(c, [row["rps"] for row in rows], style, label=f"{label}, 1 process")
    if r.get("pool"):
        n = r["pool"]["workers"]
        for label, rows, style in (("typical users", r["pool"]["search"], "o-"),
                                   ("heavy user", r["pool"]["search_heavy"], "s--")):
            b.plot([row["clients"] for row in rows], [row["rps"] for row in rows], style, color="tab:green",
                   label=f"{label}, {n} processes")
    if r.get("mem0"):
        a.axhline(r["mem0"]["search_ms"]["p95"], color="grey", linestyle=":", label="mem0 OSS p95 (1 client)")
        b.axhline(r["mem0"]["search_ms"]["rps"], color="grey", linestyle=":", label="mem0 OSS (sequential)")
    a.set_xscale("log", base=2)
    a.set_yscale("log")
    b.set_xscale("log", base=2)
    a.set_xlabel("concurrent clients")
    b.set_xlabel("concurrent clients")
    a.set_ylabel("search latency, ms")
    b.set_ylabel("searches / s")
    a.legend(fontsize=7)
    b.legend(fontsize=7)
    fig.suptitle(f"Search through HTTP, {r['n']:,} memories, 2 shared cores")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
