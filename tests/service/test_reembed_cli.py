"""`mem0-service reembed`: fill a new model's index from the records, from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.api import Api
from tests.support.fixtures import unique_user


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEM0_", "OPENAI_", "QDRANT_"))}
    return subprocess.run([sys.executable, "-m", "mem0_service", *args], env={**base, **env}, capture_output=True,
                          text=True, timeout=120)


def test_reembed_fills_the_new_models_index(service_factory, fake_openai, tmp_path):
    data = tmp_path / "data"
    local = service_factory(data_dir=data)
    api = Api(local.url, local.api_key)
    user = unique_user()
    coffee = api.create(user, "Olga drinks black coffee")
    api.create(user, "Olga lives in Kazan")
    local.stop()

    remote_env = {"MEM0_DATA_DIR": str(data), "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url}
    fake_openai.clear()
    result = run_cli(["reembed", "--no-progress"], remote_env)
    assert result.returncode == 0, result.stderr
    assert "Re-embedded 2 memories; the index holds 2 vectors" in result.stdout
    inputs = [t for r in fake_openai.requests if r["path"].endswith("/embeddings") for t in r["body"]["input"]]
    assert sorted(inputs) == ["Olga drinks black coffee", "Olga lives in Kazan"]

    again = run_cli(["reembed", "--no-progress"], remote_env)
    assert "Re-embedded 0 memories" in again.stdout, "an index that is already full is left alone"
    forced = run_cli(["reembed", "--all", "--no-progress"], remote_env)
    assert "Re-embedded 2 memories" in forced.stdout

    remote = service_factory(data_dir=data, env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url})
    hits = Api(remote.url, remote.api_key).search(user, "black coffee Olga drinks", relevance_threshold=0.0)
    assert hits["memories"][0]["id"] == coffee["id"]


def test_reembed_says_when_the_provider_is_down(service_factory, tmp_path):
    data = tmp_path / "data"
    local = service_factory(data_dir=data)
    Api(local.url, local.api_key).create(unique_user(), "something to embed")
    local.stop()
    result = run_cli(["reembed", "--no-progress"], {"MEM0_DATA_DIR": str(data), "OPENAI_API_KEY": "sk-test",
                                                    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                                                    "MEM0_OPENAI_TIMEOUT": "1"})
    assert result.returncode == 1
    assert "run again to continue" in result.stderr and "Traceback" not in result.stderr
