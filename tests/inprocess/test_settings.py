"""One Settings object, validated once from the environment, drives the whole application: a bad value names
its variable, and the application built from the object reads nothing from the environment itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from mem0_service.app import create_app
from mem0_service.config import Settings
from mem0_service.errors import ConfigError
from tests.inprocess.conftest import InProcessApi, backend_settings


@pytest.mark.parametrize(("env", "message"), [
    ({"MEM0_RATE_LIMIT": "lots"}, "MEM0_RATE_LIMIT must be a number, got 'lots'"),
    ({"MEM0_RATE_LIMIT": "-1"}, "MEM0_RATE_LIMIT must be at least 0, got '-1'"),
    ({"MEM0_RATE_LIMIT": "30", "MEM0_RATE_LIMIT_BURST": "0"}, "MEM0_RATE_LIMIT_BURST must be at least 1, got '0'"),
    ({"MEM0_LOG_FORMAT": "XML"}, "MEM0_LOG_FORMAT must be text or json, got 'xml'"),
    ({"MEM0_METRICS_PUBLIC": "maybe"}, "MEM0_METRICS_PUBLIC must be true or false, got 'maybe'"),
    ({"MEM0_KEY_CACHE_SECONDS": "soon"}, "MEM0_KEY_CACHE_SECONDS must be a number, got 'soon'"),
    ({"MEM0_HEALTH_TIMEOUT": "0"}, "MEM0_HEALTH_TIMEOUT must be at least 0.1, got '0'"),
    ({"MEM0_IDEMPOTENCY_TTL": "0"}, "MEM0_IDEMPOTENCY_TTL must be at least 60, got '0'"),
    ({"MEM0_IDEMPOTENCY_TTL": "-60"}, "MEM0_IDEMPOTENCY_TTL must be at least 60, got '-60'"),
    ({"MEM0_IDEMPOTENCY_TTL": "inf"}, "MEM0_IDEMPOTENCY_TTL must be a finite number, got 'inf'"),
    ({"MEM0_IDEMPOTENCY_TTL": "1e20"}, "MEM0_IDEMPOTENCY_TTL must be at most 3.1536e+08, got '1e20'"),
    ({"MEM0_RATE_LIMIT": "nan"}, "MEM0_RATE_LIMIT must be a finite number, got 'nan'"),
    ({"MEM0_SESSION_TTL": "1e20"}, "MEM0_SESSION_TTL must be at most 3.1536e+08, got '1e20'"),
    ({"MEM0_SESSION_TTL": "0"}, "MEM0_SESSION_TTL must be at least 1, got '0'"),
    ({"MEM0_AUTH_FAILURE_LIMIT": "-5"}, "MEM0_AUTH_FAILURE_LIMIT must be at least 0, got '-5'"),
    ({"MEM0_QUERY_REWRITE": "sometimes"}, "MEM0_QUERY_REWRITE must be true or false, got 'sometimes'"),
    ({"MEM0_QUERY_REWRITE_TIMEOUT": "0"}, "MEM0_QUERY_REWRITE_TIMEOUT must be at least 0.1, got '0'"),
    ({"MEM0_QUERY_REWRITE_TIMEOUT": "3600"}, "MEM0_QUERY_REWRITE_TIMEOUT must be at most 120, got '3600'"),
    ({"MEM0_TRUSTED_PROXIES": "10.0.0.0/8,caddy"},
     "MEM0_TRUSTED_PROXIES must list IP addresses or networks (CIDR), got 'caddy'"),
    ({"MEM0_TRUSTED_PROXIES": "10.0.0.0/33"},
     "MEM0_TRUSTED_PROXIES must list IP addresses or networks (CIDR), got '10.0.0.0/33'"),
])
def test_a_bad_operational_value_names_its_variable(env: dict[str, str], message: str):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert message in str(refused.value)


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"MEM0_PORT": "seventy", "MEM0_HEALTH_TIMEOUT": "never"})
    assert "port" in str(refused.value) and "MEM0_HEALTH_TIMEOUT must be a number" in str(refused.value)


def test_operational_values_from_the_environment():
    settings = Settings.from_env({"MEM0_RATE_LIMIT": "30", "MEM0_CORS_ORIGINS": " https://app.example.com/ , ,*",
                                  "MEM0_LOG_FORMAT": "JSON", "MEM0_METRICS_PUBLIC": "yes",
                                  "MEM0_KEY_CACHE_SECONDS": "0", "MEM0_HEALTH_TIMEOUT": "2.5",
                                  "MEM0_IDEMPOTENCY_TTL": "3600"})
    assert settings.rate_limit == 30 and settings.rate_limit_bucket == 30  # the burst defaults to the rate
    assert settings.cors_origins == ("https://app.example.com", "*")
    assert settings.log_format == "json" and settings.metrics_public is True
    assert settings.key_cache_seconds == 0 and settings.health_timeout == 2.5 and settings.idempotency_ttl == 3600
    assert Settings.from_env({"MEM0_RATE_LIMIT": "30", "MEM0_RATE_LIMIT_BURST": "5"}).rate_limit_bucket == 5
    defaults = Settings.from_env({"MEM0_LOG_FORMAT": "", "MEM0_CORS_ORIGINS": ""})
    assert (defaults.rate_limit, defaults.rate_limit_bucket, defaults.cors_origins) == (0, 0, ())
    assert (defaults.log_format, defaults.metrics_public, defaults.key_cache_seconds,
            defaults.health_timeout, defaults.idempotency_ttl) == ("text", False, 5, 5, 86400)


async def test_the_application_follows_its_settings_not_the_environment(aiohttp_client, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEM0_METRICS_PUBLIC", "true")
    monkeypatch.setenv("MEM0_RATE_LIMIT", "1")
    with backend_settings("sqlite", tmp_path / "closed") as settings:
        api = InProcessApi(await aiohttp_client(create_app(settings, background=False)), settings.api_keys[0])
        status, _ = await api.call("GET", "/metrics", auth=False)
        assert status == 401
        for _ in range(3):  # no rate limit: the environment's MEM0_RATE_LIMIT=1 is not the application's
            status, _ = await api.call("GET", "/api/auth/check")
            assert status == 200
    with backend_settings("sqlite", tmp_path / "open", metrics_public=True,
                          cors_origins=("https://app.example.com",)) as settings:
        api = InProcessApi(await aiohttp_client(create_app(settings, background=False)), settings.api_keys[0])
        status, _ = await api.call("GET", "/metrics", auth=False)
        assert status == 200
        async with api.client.get("/api/health", headers={"Origin": "https://app.example.com"}) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
