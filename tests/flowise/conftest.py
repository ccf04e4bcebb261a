"""Fixtures for the Flowise end-to-end tests: one real Flowise per run, wired to the live service and fake model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.flowise.flowise_server import (
    FlowiseServer,
    bind_flow,
    install,
    load_workflow,
)


@pytest.fixture(scope="session")
def flowise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowiseServer]:
    # Installing or starting Flowise failing is a test failure, never a skip.
    server = FlowiseServer(install(), tmp_path_factory.mktemp("flowise-home")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def flowise_credentials(flowise: FlowiseServer, live_service, fake_openai) -> dict[str, str]:
    """Stored credentials by type, as a user creates them in Flowise's Credentials page."""
    return {
        "mem0Api": flowise.create_credential("mem0 service", "mem0Api",
                                             {"baseUrl": live_service.url, "apiKey": live_service.api_key}),
        "openAIApi": flowise.create_credential("fake openai", "openAIApi", {"openAIApiKey": "sk-fake"}),
    }


@pytest.fixture
def import_workflow(flowise: FlowiseServer, flowise_credentials: dict[str, str], fake_openai
                    ) -> Callable[..., str]:
    """Imports a file of workflows/flowise/ the way a user would, pointed at the fake model; returns its id."""
    fake_openai.clear()

    def _import(file: str, *, inputs: dict[str, dict[str, Any]] | None = None, **kwargs: Any) -> str:
        # Only the model's address changes; streaming is off because an offline ChatOpenAI stalls ~3 min per
        # streamed prediction trying to download a tokenizer.
        model = {"chatOpenAI": {"basepath": fake_openai.base_url, "streaming": False}}
        flow = bind_flow(load_workflow(file), credentials=flowise_credentials, inputs={**model, **(inputs or {})})
        return flowise.import_chatflow(file, flow, **kwargs)

    return _import
