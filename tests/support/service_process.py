"""Runs the real service as a separate process on a free loopback port, the way users run it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """One service process. `restart()` keeps the data directory, port and key: a restart, not a new service."""

    def __init__(self, data_dir: Path, *, api_key: str = "test-admin-key", env: dict[str, str] | None = None,
                 port: int | None = None):
        self.data_dir = data_dir
        self.api_key = api_key
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / "service.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MEM0_", "OPENAI_", "QDRANT_"))
               and k != "DATABASE_URL"}
        env.update({"MEM0_DATA_DIR": str(self.data_dir), "MEM0_API_KEY": self.api_key, "MEM0_HOST": "127.0.0.1",
                    "MEM0_PORT": str(self.port), **self.extra_env})
        log = open(self.log_path, "ab")  # noqa: SIM115 -- the child process keeps writing to it
        self.process = subprocess.Popen([sys.executable, "-m", "mem0_service", "serve"], env=env, cwd=REPO,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, exactly like a crash."""
        self.stop(signal.SIGKILL)

    def restart(self) -> ServiceProcess:
        self.stop()
        return self.start()


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a worker pool's workers), by pid."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(found)
