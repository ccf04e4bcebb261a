"""Fixtures shared by every test suite in the repository (loaded by the root conftest.py)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.service_process import ServiceProcess


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One real service process (embedded default backends) shared by the whole run: use unique user ids."""
    service = ServiceProcess(tmp_path_factory.mktemp("live-service"), api_key="live-" + secrets.token_hex(8))
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator:
    """Start dedicated service processes (own data dir, own env) for tests that restart, kill or reconfigure them."""
    started: list[ServiceProcess] = []

    def make(env: dict[str, str] | None = None, data_dir: Path | None = None) -> ServiceProcess:
        service = ServiceProcess(data_dir or tmp_path / f"service-{len(started)}", env=env)
        started.append(service)
        return service.start()

    yield make
    for service in started:
        service.stop()


def unique_user(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
