"""Entity deletes and user erasure on a 100,000-memory SQLite store, in two versions of the service.

The records are written once, straight into a record store (no embedding: the operations measured never need a
vector), and copied for each version, which runs as its own service process. For each operation: its time through
HTTP, and how far the process's resident memory rose above what it held just before (peak RSS, reset by
/proc/PID/clear_refs before each call).

    .venv/bin/python -m bench.erasure --before PATH_TO_AN_OLDER_CHECKOUT [--n 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import requests

from bench.common import REPO, RESULTS, WORK, machine_note, start_service
from mem0_service.backends import open_backends
from mem0_service.config import Settings
from mem0_service.core.memory import Memory, MemoryType, new_memory_id
from mem0_service.vectors.base import VectorPoint

HEAVY, HEAVY_COUNT, TYPICAL_COUNT = "heavy-user", 20_000, 200
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)
# the heavy user's memories: half of an agent, a quarter in one run, a quarter tagged with an app
OWNERS = {0: {"agent_id": "planner"}, 1: {"session_id": "run-1"}, 2: {"agent_id": "planner"},
          3: {"metadata": {"app_id": "crm"}}}
OPERATIONS = [("DELETE /v2/entities/agent/planner/", "/v2/entities/agent/planner/", HEAVY_COUNT // 2),
              ("DELETE /v2/entities/run/run-1/", "/v2/entities/run/run-1/", HEAVY_COUNT // 4),
              ("DELETE /v2/entities/app/crm/", "/v2/entities/app/crm/", HEAVY_COUNT // 4),
              (f"DELETE /api/memories/user/user-0007 ({TYPICAL_COUNT} memories)", "/api/memories/user/user-0007",
               TYPICAL_COUNT)]


def _memories(total: int) -> list[Memory]:
    out = []
    for i in range(total):
        heavy = i < HEAVY_COUNT
        user = HEAVY if heavy else f"user-{(i - HEAVY_COUNT) // TYPICAL_COUNT:04d}"
        at = BASE + timedelta(seconds=i)
        out.append(Memory(id=new_memory_id(), user_id=user, content=f"note {i} about topic {i % 97}",
                          type=MemoryType.fact, created_at=at, updated_at=at, **(OWNERS[i % 4] if heavy else {})))
    return out


async def _fill(data_dir: Path, total: int) -> None:
    async with open_backends(Settings(api_keys=["bench-key"], data_dir=data_dir)) as service:
        memories = _memories(total)
        for start in range(0, total, 5000):
            await service.store.insert(memories[start:start + 5000], deduplicate=False)
        while pending := await service.store.pending_index_ops(10_000):
            await service.store.ack_index_ops([op.seq for op in pending])
        # one vector, so that the service does not take the index for lost and re-embed everything at start
        unit = np.ones(service.embedder.dim, dtype=np.float32) / np.sqrt(service.embedder.dim)
        await service.index.upsert([VectorPoint(memories[-1].id, unit, memories[-1].vector_payload())])


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # MiB
    raise KeyError(field)


def _measure(label: str, service_dir: Path, data_dir: Path) -> dict:
    env = {"PYTHONPATH": f"{service_dir}:{REPO}", "MEM0_WORKERS": "1"}
    process = start_service(data_dir, env=env)
    try:
        pid = process.process.pid
        rows = []
        for name, path, expected in OPERATIONS:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak RSS starts again from the current RSS
            before = _status(pid, "VmRSS")
            started = time.perf_counter()
            answer = requests.delete(process.url + path, headers=process.headers, timeout=600)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200 and answer.json()["deleted"] == expected, (name, answer.text)
            rows.append({"operation": name, "deleted": expected, "seconds": round(elapsed, 2),
                         "rss_rise_mib": _status(pid, "VmHWM") - before})
        return {"version": label, "rows": rows}
    finally:
        process.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="an older checkout of this repository")
    parser.add_argument("--before-label", default="before")
    parser.add_argument("--after-label", default="this version")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    work = WORK / "erasure"
    shutil.rmtree(work, ignore_errors=True)
    asyncio.run(_fill(work / "filled", args.n))
    results = []
    for label, checkout in ((args.before_label, args.before), (args.after_label, REPO)):
        copy = work / label.replace(" ", "-")
        shutil.copytree(work / "filled", copy)
        results.append(_measure(label, checkout / "service", copy))
    (RESULTS / "erasure.json").write_text(json.dumps(results, indent=1) + "\n")
    lines = [f"# Entity deletes and user erasure, {args.n:,} memories (SQLite, embedded index)", "",
             f"One user holds {HEAVY_COUNT:,} memories (half of agent `planner`, a quarter in run `run-1`, a quarter "
             f"of app `crm`); {(args.n - HEAVY_COUNT) // TYPICAL_COUNT} others hold {TYPICAL_COUNT} each. Operations "
             "run in this order on identical copies of the data, each version in its own service process "
             "(`python -m bench.erasure`).  ", f"Machine: {machine_note()}", "",
             "| operation | memories deleted | " + " | ".join(f"{r['version']}: s" for r in results) + " | "
             + " | ".join(f"{r['version']}: RSS rise MiB" for r in results) + " |",
             "|---|---|" + "---|" * (2 * len(results))]
    for position, (name, _, expected) in enumerate(OPERATIONS):
        lines.append(f"| `{name}` | {expected:,} | "
                     + " | ".join(f"{r['rows'][position]['seconds']:.2f}" for r in results) + " | "
                     + " | ".join(str(r["rows"][position]["rss_rise_mib"]) for r in results) + " |")
    (RESULTS / "erasure.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
