"""Operational settings (rate limits, CORS, logs, metrics, health) read from the environment with clear errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mem0_service.errors import ConfigError

# name -> (default, meaning): the README's table and the compose file are checked against this list.
ENV_VARS: dict[str, tuple[str, str]] = {
    "MEM0_RATE_LIMIT": ("0", "Requests per minute allowed per API key; 0 turns rate limiting off"),
    "MEM0_RATE_LIMIT_BURST": ("", ("Requests a key may send at once before the per-minute rate applies "
                                   "(default: the per-minute limit)")),
    "MEM0_CORS_ORIGINS": ("", ("Comma-separated origins allowed to call the API from a browser (`*` for any); "
                               "empty turns CORS off")),
    "MEM0_LOG_FORMAT": ("text", "`text` or `json` (one JSON object per line, with the request id)"),
    "MEM0_METRICS_PUBLIC": ("false", ("`true` serves GET /metrics without an API key (for a scraper on a private "
                                      "network); otherwise an admin key is required")),
    "MEM0_KEY_CACHE_SECONDS": ("5", ("How long a scoped key lookup is cached; a revoked key stops working on other "
                                     "replicas within this time (at once on the replica that revoked it)")),
    "MEM0_HEALTH_TIMEOUT": ("5", "Seconds each dependency may take to answer a deep health check"),
}


def _flag(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {text!r}")


def _number(name: str, text: str, kind=float, minimum: float = 0) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {text!r}")
    return value


@dataclass(frozen=True)
class OpsSettings:
    rate_limit_per_minute: float = 0.0
    rate_limit_burst: float = 0.0
    cors_origins: tuple[str, ...] = ()
    log_format: str = "text"
    metrics_public: bool = False
    key_cache_seconds: float = 5.0
    health_timeout: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OpsSettings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return (env.get(name) or ENV_VARS[name][0]).strip()

        rate = _number("MEM0_RATE_LIMIT", get("MEM0_RATE_LIMIT") or "0")
        burst_text = get("MEM0_RATE_LIMIT_BURST")
        burst = _number("MEM0_RATE_LIMIT_BURST", burst_text, minimum=1) if burst_text else rate
        log_format = get("MEM0_LOG_FORMAT").lower() or "text"
        if log_format not in ("text", "json"):
            raise ConfigError(f"MEM0_LOG_FORMAT must be text or json, got {log_format!r}")
        origins = tuple(o.strip().rstrip("/") for o in get("MEM0_CORS_ORIGINS").split(",") if o.strip())
        return cls(rate_limit_per_minute=rate, rate_limit_burst=max(burst, 1.0) if rate else 0.0,
                   cors_origins=origins, log_format=log_format,
                   metrics_public=_flag("MEM0_METRICS_PUBLIC", get("MEM0_METRICS_PUBLIC")),
                   key_cache_seconds=_number("MEM0_KEY_CACHE_SECONDS", get("MEM0_KEY_CACHE_SECONDS")),
                   health_timeout=_number("MEM0_HEALTH_TIMEOUT", get("MEM0_HEALTH_TIMEOUT"), minimum=0.1))
