"""What the operations tests share: running the real CLI, a TCP proxy to cut a dependency off, small API helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tests.support.service_process import REPO, ServiceProcess


def service_env(service: ServiceProcess) -> dict[str, str]:
    """The environment a CLI command needs to work on the same data as `service`."""
    return {"MEM0_DATA_DIR": str(service.data_dir), "MEM0_API_KEY": service.api_key, **service.extra_env}


def cli(env: dict[str, str], *args: str, input: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `mem0-service <args>` as a user would, with only the given configuration."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEM0_", "OPENAI_", "QDRANT_"))
             and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "mem0_service", *args], env={**clean, **env}, cwd=REPO,
                          capture_output=True, text=True, input=input, timeout=timeout, check=False)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create(service: ServiceProcess, user_id: str, content: str, key: str | None = None, **fields) -> dict:
    response = requests.post(f"{service.url}/api/memories", json={"user_id": user_id, "content": content, **fields},
                             headers=auth(key or service.api_key), timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


def all_memories(service: ServiceProcess, user_id: str) -> list[dict]:
    response = requests.get(f"{service.url}/api/memories/user/{user_id}", params={"limit": 1000, "order": "asc"},
                            headers=auth(service.api_key), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["memories"]


def search(service: ServiceProcess, user_id: str, query: str, **fields) -> list[dict]:
    response = requests.post(f"{service.url}/api/memories/search", headers=auth(service.api_key), timeout=30,
                             json={"user_id": user_id, "query": query, "relevance_threshold": 0.0, "limit": 20,
                                   **fields})
    assert response.status_code == 200, response.text
    return response.json()["memories"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TcpProxy:
    """Forwards a loopback port to a server; `stop()` refuses new connections and cuts open ones, the way a
    stopped database looks from the service; `start()` brings it back on the same port."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone would leave the port listening
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._open.clear()


def read_manifest(archive: Path) -> dict:
    import json
    import tarfile

    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))
