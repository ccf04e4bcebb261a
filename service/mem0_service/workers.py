"""Several worker processes on one port (MEM0_WORKERS): the kernel spreads connections over them
(SO_REUSEPORT), so the Python parts of a request (HTTP, validation, ranking, JSON) run on every core instead
of one.

The first worker starts alone and does what must happen once: schema migrations, the start-up index repair,
and afterwards the background repair and expiry sweeps. The others start when it answers, and only serve
requests. This parent process only supervises: it forwards SIGTERM/SIGINT and replaces a worker that dies."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
import urllib.request

from mem0_service.config import Settings
from mem0_service.errors import ConfigError

log = logging.getLogger("mem0_service")

# A worker that dies this soon after starting, this many times in a row, is broken, not unlucky.
QUICK_DEATH_SECONDS = 10.0
QUICK_DEATHS_ALLOWED = 3


def check_pool_possible(settings: Settings) -> None:
    if settings.vector_index == "qdrant" and not settings.qdrant_url:
        raise ConfigError("MEM0_WORKERS > 1 needs a Qdrant server (QDRANT_URL): Qdrant's local mode keeps its "
                          "data directory locked to one process")


class Worker:
    def __init__(self, index: int, command: list[str]):
        self.index, self.command = index, command
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self.quick_deaths = 0

    def start(self) -> None:
        self.process = subprocess.Popen([*self.command, "--worker-index", str(self.index)])
        self.started = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


class WorkerPool:
    def __init__(self, settings: Settings):
        check_pool_possible(settings)
        self.settings = settings
        command = [sys.executable, "-m", "mem0_service", "serve", "--host", settings.host, "--port", str(settings.port),
                   "--workers", str(settings.workers)]  # a worker knows it has siblings (shared rate-limit buckets)
        self.workers = [Worker(i, command) for i in range(settings.workers)]
        self.stopping = False

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; the exit status is non-zero when the pool could not be kept up."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        first = self.workers[0]
        first.start()
        if not self._wait_until_serving(first):
            return self._shutdown(first.exited() or 1)
        for worker in self.workers[1:]:
            worker.start()
        log.info("%d workers serving on port %d", len(self.workers), self.settings.port)
        while not self.stopping:
            time.sleep(0.5)
            for worker in self.workers:
                code = worker.exited()
                if code is None or self.stopping:
                    continue
                lived = time.monotonic() - worker.started
                worker.quick_deaths = worker.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
                if worker.quick_deaths >= QUICK_DEATHS_ALLOWED:
                    log.error("worker %d keeps dying at start-up (exit status %s); stopping", worker.index, code)
                    return self._shutdown(1)
                log.warning("worker %d exited with status %s after %.0f s; starting a new one", worker.index, code,
                            lived)
                worker.start()
        return self._shutdown(0)

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _wait_until_serving(self, worker: Worker) -> bool:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else "::1" if self.settings.host == "::" \
            else self.settings.host
        url = f"http://{host if ':' not in host else f'[{host}]'}:{self.settings.port}/api/health"
        while not self.stopping and worker.exited() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:  # not listening yet (URLError is an OSError too)
                pass
            time.sleep(0.2)
        return False

    def _shutdown(self, status: int) -> int:
        for worker in self.workers:
            if worker.process is not None and worker.exited() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for worker in self.workers:
            if worker.process is None:
                continue
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %d did not stop in time; killing it", worker.index)
                worker.process.kill()
                worker.process.wait()
        return status
