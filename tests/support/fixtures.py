"""Fixtures shared by every test suite in the repository (loaded by the root conftest.py)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.service_process import ServiceProcess


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One real service process (embedded default backends) shared by the whole run: use unique user ids."""
    # webhooks of the n8n and Flowise suites point at loopback receivers
    service = ServiceProcess(tmp_path_factory.mktemp("live-service"), api_key="live-" + secrets.token_hex(8),
                             env={"MEM0_WEBHOOK_ALLOW_PRIVATE": "true"})
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


BACKENDS = {
    "sqlite": {},  # the embedded default: SQLite records, embedded vector index, bundled model
    "postgres-qdrant": {"MEM0_VECTOR_INDEX": "qdrant"},  # PostgreSQL records + Qdrant (local mode) vectors
}


@contextlib.contextmanager
def backend_process(backend: str, data_dir: Path, env: dict[str, str] | None = None) -> Iterator[ServiceProcess]:
    """A service process on one of BACKENDS (a fresh PostgreSQL database when it needs one), stopped afterwards."""
    from tests.support.postgres import fresh_database

    env = {**BACKENDS[backend], **(env or {})}
    with contextlib.ExitStack() as stack:
        if backend.startswith("postgres"):
            env["DATABASE_URL"] = stack.enter_context(fresh_database())
        service = ServiceProcess(data_dir, env=env, api_key="admin-" + secrets.token_hex(8))
        service.backend = backend
        service.start()
        stack.callback(service.stop)
        yield service


@pytest.fixture(scope="session", params=sorted(BACKENDS))
def backend_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The same suite runs against each production-relevant backend combination."""
    with backend_process(request.param, tmp_path_factory.mktemp(f"svc-{request.param}")) as service:
        yield service


@pytest.fixture
def api(backend_service: ServiceProcess):
    from tests.support.api import Api

    return Api(backend_service.url, backend_service.api_key)


# The llm_service's key for the fake model: llm_api hands queued replies only to requests bearing it.
LLM_SERVICE_OPENAI_KEY = "sk-llm-service"


@pytest.fixture(scope="session", params=sorted(BACKENDS))
def llm_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                fake_openai: FakeOpenAI) -> Iterator[ServiceProcess]:
    """A service whose chat model is the local fake OpenAI server (embeddings stay on the bundled model)."""
    # The service lives for the whole session and shares the scripted fake with every test: its periodic look for
    # parked conversations (every 10 minutes by default) would retry earlier tests' extractions in the background
    # and take the answers a later test queued. Tests of that retry start services of their own (test_jobs.py).
    env = {"OPENAI_API_KEY": LLM_SERVICE_OPENAI_KEY, "OPENAI_BASE_URL": fake_openai.base_url, "MEM0_EMBEDDER": "local",
           "MEM0_OPENAI_TIMEOUT": "2", "MEM0_SWEEP_INTERVAL": "0.3", "MEM0_JOB_RESCAN": "86400"}
    with backend_process(request.param, tmp_path_factory.mktemp(f"llm-{request.param}"), env) as service:
        yield service


@pytest.fixture
def llm_api(llm_service: ServiceProcess, fake_openai: FakeOpenAI):
    from tests.support.api import Api

    fake_openai.clear()
    fake_openai.script_for(LLM_SERVICE_OPENAI_KEY)
    return Api(llm_service.url, llm_service.api_key)
