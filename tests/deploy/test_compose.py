"""The production deployment files, validated by reading them (no Docker engine runs here), and the service started
with the environment they give it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.service_process import ServiceProcess

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "service" / "mem0_service"
# Read from the environment by the service but deliberately not passed through by compose.
NOT_FOR_PRODUCTION = {"MEM0_FAILPOINT"}  # fault injection for tests
ENV_NAME = re.compile(r"""["'](MEM0_[A-Z0-9_]+|DATABASE_URL|QDRANT_URL|QDRANT_API_KEY|OPENAI_[A-Z0-9_]+)["']""")
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def service_env_vars() -> set[str]:
    """Every environment variable name the service's code mentions."""
    names: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        names.update(ENV_NAME.findall(path.read_text()))
    return names


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


def test_every_variable_the_service_reads_is_passed_through(compose):
    read = service_env_vars()
    assert {"MEM0_API_KEY", "DATABASE_URL", "QDRANT_URL", "OPENAI_API_KEY", "MEM0_RATE_LIMIT"} <= read  # the scan works
    passed = set(env_of(compose["services"]["mem0"]))
    missing = sorted(read - passed - NOT_FOR_PRODUCTION)
    assert not missing, f"docker-compose.yaml does not pass {missing} to the mem0 service"


def test_every_interpolated_variable_is_documented_in_env_example(compose):
    text = (REPO / "docker-compose.yaml").read_text()
    used = set(INTERPOLATION.findall(text))
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    assert used and not sorted(used - documented)
    for required in ("MEM0_API_KEY", "POSTGRES_PASSWORD", "DOMAIN_NAME"):
        assert re.search(rf"\$\{{{required}:\?", text), f"{required} must be required (${{{required}:?...}})"


def example_values() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", (REPO / ".env.example").read_text(), re.MULTILINE))


def interpolated(value: str, given: dict[str, str]) -> str:
    """Compose's interpolation: ${X:-default} and ${X-default}, ${X:?message} (refused when unset or empty), ${X}."""
    def one(match: re.Match) -> str:
        name, op, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        value = given.get(name)
        if op == ":-":
            return value if value else rest
        if op == "-":
            return rest if value is None else value
        if op in (":?", "?"):
            assert value, f"{name} is required: {rest}"
        return value or ""
    return re.sub(r"\$\{([A-Z0-9_]+)(:?[-?])?([^}]*)\}", one, value)


def test_the_service_starts_with_the_environment_compose_gives_it_from_env_example(compose, tmp_path):
    """`cp .env.example .env`, set the two required values, `docker compose up`: every variable compose passes, empty
    ones included, must be one the service accepts. Only what needs the other containers is replaced: the database
    and Qdrant servers (SQLite and Qdrant's local mode here, one process as local mode requires), and where it
    listens and keeps its data."""
    given = {**example_values(), "MEM0_API_KEY": "compose-admin-key", "POSTGRES_PASSWORD": "secret"}
    env = {name: interpolated(value, given) for name, value in env_of(compose["services"]["mem0"]).items()}
    assert env["MEM0_API_KEY"] == "compose-admin-key" and env["MEM0_VECTOR_INDEX"] == "qdrant"
    for name in ("DATABASE_URL", "QDRANT_URL", "MEM0_HOST", "MEM0_PORT", "MEM0_DATA_DIR", "MEM0_API_KEY"):
        env.pop(name)
    service = ServiceProcess(tmp_path / "data", api_key="compose-admin-key", env={**env, "MEM0_WORKERS": "1"})
    service.start(timeout=120)
    try:
        created = requests.post(f"{service.url}/api/memories", headers=service.headers, timeout=30, json={
            "user_id": "compose", "content": "The user is allergic to peanuts", "memory_type": "fact"})
        assert created.status_code == 201, created.text
        found = requests.post(f"{service.url}/api/memories/search", headers=service.headers, timeout=30,
                              json={"user_id": "compose", "query": "peanut allergy", "relevance_threshold": 0.7})
        assert found.status_code == 200, found.text
        assert [m["content"] for m in found.json()["memories"]] == ["The user is allergic to peanuts"]
    finally:
        service.stop()


def test_services_volumes_and_healthchecks(compose):
    services = compose["services"]
    assert set(services) == {"mem0", "postgres", "qdrant", "caddy"}
    mem0 = services["mem0"]
    assert mem0["build"] == {"context": "./service", "dockerfile": "Dockerfile"}
    assert (REPO / "service" / "Dockerfile").exists()
    env = env_of(mem0)
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["QDRANT_URL"] == "http://qdrant:6333"
    assert env["MEM0_HOST"] == "0.0.0.0" and env["MEM0_PORT"] == "3456"
    assert mem0["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/api/ready" in " ".join(mem0["healthcheck"]["test"])
    assert all(str(p).startswith("127.0.0.1:") for p in mem0["ports"])  # the world comes in through Caddy

    named = set(compose["volumes"])
    mounts = {name: [str(v) for v in s.get("volumes", [])] for name, s in services.items()}
    assert "mem0_data:/app/data" in mounts["mem0"]
    assert "postgres_data:/var/lib/postgresql/data" in mounts["postgres"]
    assert "qdrant_storage:/qdrant/storage" in mounts["qdrant"]
    assert {"mem0_data", "postgres_data", "qdrant_storage", "caddy_data"} <= named
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert env_of(services["qdrant"])["QDRANT__SERVICE__API_KEY"] == "${QDRANT_API_KEY:-}"

    caddy = services["caddy"]
    assert caddy["profiles"] == ["proxy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in mounts["caddy"]
    assert {"80:80", "443:443"} <= {str(p) for p in caddy["ports"]}
    assert "DOMAIN_NAME" in env_of(caddy)
    networks = {name: s.get("networks") for name, s in services.items()}
    assert len({tuple(n) for n in networks.values()}) == 1  # one network: caddy reaches mem0, mem0 its stores


def test_caddyfile_follows_the_guide():
    text = (REPO / "Caddyfile").read_text()
    assert "mem0.{$DOMAIN_NAME} {" in text
    for header in ('Strict-Transport-Security "max-age=31536000; includeSubDomains; preload"',
                   'X-Content-Type-Options "nosniff"', 'X-Frame-Options "SAMEORIGIN"',
                   'Referrer-Policy "strict-origin-when-cross-origin"'):
        assert header in text
    assert "reverse_proxy mem0:3456" in text
    assert re.search(r"@denied not remote_ip \{\$MEM0_ALLOWED_IPS:[^}]+\}", text)
    assert "respond @denied" in text and "403" in text
    assert text.count("{") == text.count("}")


def test_dockerfile_runs_the_service_unprivileged_with_a_healthcheck():
    text = (REPO / "service" / "Dockerfile").read_text()
    assert "EXPOSE 3456" in text and "HEALTHCHECK" in text and "/api/health" in text
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "MEM0_DATA_DIR=/app/data" in text and 'VOLUME ["/app/data"]' in text
    assert 'ENTRYPOINT ["mem0-service"]' in text
    assert "COPY pyproject.toml" in text and "COPY mem0_service mem0_service" in text
    assert (REPO / "service" / "pyproject.toml").exists() and (REPO / "service" / "mem0_service").is_dir()
