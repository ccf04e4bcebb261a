"""`mem0-service calibrate`: fit the configured model's relevance calibration to a labelled set, print it, store it,
and a service started with it scores by it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.api import Api
from tests.support.fixtures import unique_user

REPO = Path(__file__).resolve().parents[2]
MULTILINGUAL = REPO / "bench" / "data" / "multilingual_relevance.json"


def run_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEM0_", "OPENAI_", "QDRANT_"))}
    return subprocess.run([sys.executable, "-m", "mem0_service", *args], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def test_calibrate_prints_a_calibration_that_meets_the_default_threshold_targets(tmp_path):
    result = run_cli(["calibrate", str(MULTILINGUAL), "--json"], {"MEM0_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "use-multilingual-v3"
    assert report["queries"] >= 200
    fitted = report["fitted"]
    assert fitted["relevant_pass"] >= 0.9 and fitted["unrelated_pass"] <= 0.1, fitted
    assert report["stored_in"] is None


def test_calibrate_stores_the_setting_and_the_service_scores_by_it(tmp_path, service_factory):
    labelled = tmp_path / "mine.json"
    labelled.write_text(json.dumps({"users": [{
        "user_id": "u",
        "memories": {"tea": "The user drinks green tea every morning", "car": "The user drives an old Volvo",
                     "dog": "The user walks the dog at 7 pm", "job": "The user works as a nurse"},
        "queries": [{"q": "What does the user drink?", "relevant": ["tea"]},
                    {"q": "Какая машина у пользователя?", "relevant": ["car"]},
                    {"q": "Has the user got pets?", "relevant": ["dog"]},
                    {"q": "Кем работает пользователь?", "relevant": ["job"]}]}]}))
    env_file = tmp_path / "mem0.env"
    env_file.write_text("MEM0_PORT=3456\nMEM0_SCORE_CALIBRATION=0.1,0.2,0.3\n")

    result = run_cli(["calibrate", str(labelled), "--query-weight", "0", "--env-file", str(env_file)],
                     {"MEM0_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    assert "fitted" in result.stdout and f"Stored in {env_file}" in result.stdout
    lines = env_file.read_text().splitlines()
    assert lines[0] == "MEM0_PORT=3456", "other settings stay"
    stored = [line for line in lines if line.startswith("MEM0_SCORE_CALIBRATION=")]
    assert len(stored) == 1 and stored[0] != "MEM0_SCORE_CALIBRATION=0.1,0.2,0.3"
    assert f"\n{stored[0]}\n" in "\n" + result.stdout, "the printed line is the stored one"
    value = stored[0].split("=", 1)[1]
    assert len(value.split(",")) == 3, "weight 0 calibrates raw cosines: three anchors"

    # A lax calibration lets everything through at 0.7, the fitted one only what answers.
    lax = service_factory(env={"MEM0_SCORE_CALIBRATION": "-0.9,-0.8,-0.7"})
    fitted = service_factory(env={"MEM0_SCORE_CALIBRATION": value})
    for service, expected in ((lax, 2), (fitted, 1)):
        api, user = Api(service.url, service.api_key), unique_user()
        tea = api.create(user, "The user drinks green tea every morning")
        api.create(user, "The user drives an old Volvo")
        found = api.search(user, "What does the user drink?")["memories"]
        assert len(found) == expected and found[0]["id"] == tea["id"]
        service.stop()


def test_calibrate_names_what_is_wrong_with_the_labelled_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"users": [{"user_id": "u", "memories": {"a": "text"},
                                          "queries": [{"q": "question", "relevant": ["missing"]}]}]}))
    result = run_cli(["calibrate", str(bad)], {"MEM0_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "users[0].queries[0].relevant" in result.stderr and "Traceback" not in result.stderr

    bad.write_text("{not json")
    result = run_cli(["calibrate", str(bad)], {"MEM0_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1 and "cannot read JSON" in result.stderr

    result = run_cli(["calibrate", str(tmp_path / "absent.json")], {"MEM0_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_a_malformed_calibration_setting_is_refused_at_start(tmp_path):
    result = run_cli(["calibrate", str(MULTILINGUAL)], {"MEM0_DATA_DIR": str(tmp_path), "MEM0_SCORE_CALIBRATION": "0.1,0.2"})
    assert result.returncode == 1
    assert "MEM0_SCORE_CALIBRATION must be three numbers" in result.stderr and "Traceback" not in result.stderr
