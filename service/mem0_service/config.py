"""Settings read from the environment once, validated at start-up."""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from mem0_service.core.ranking import KEYWORD_WEIGHT
from mem0_service.errors import ConfigError

EmbedderKind = Literal["local", "openai"]
VectorIndexKind = Literal["embedded", "qdrant"]
LogFormat = Literal["text", "json"]

# Every environment variable of the service and the field it sets. The README's configuration table and
# docker-compose.yaml are checked against this list (tests/deploy).
ENV_VARS: dict[str, str] = {
    "MEM0_API_KEY": "api_keys", "MEM0_API_KEYS": "api_keys",
    "MEM0_HOST": "host", "MEM0_PORT": "port", "MEM0_WORKERS": "workers", "MEM0_DATA_DIR": "data_dir",
    "DATABASE_URL": "database_url", "QDRANT_URL": "qdrant_url", "QDRANT_API_KEY": "qdrant_api_key",
    "MEM0_VECTOR_INDEX": "vector_index", "MEM0_EMBEDDER": "embedder",
    "MEM0_EMBEDDING_MODEL": "embedding_model", "MEM0_EMBEDDING_DIMS": "embedding_dims",
    "OPENAI_API_KEY": "openai_api_key", "OPENAI_BASE_URL": "openai_base_url", "MEM0_OPENAI_TIMEOUT": "openai_timeout",
    "MEM0_LLM_MODEL": "llm_model", "MEM0_LLM_BASE_URL": "llm_base_url",
    "MEM0_QUERY_REWRITE": "query_rewrite", "MEM0_QUERY_REWRITE_TIMEOUT": "query_rewrite_timeout",
    "MEM0_SCORE_CALIBRATION": "score_calibration", "MEM0_KEYWORD_WEIGHT": "keyword_weight",
    "MEM0_DEDUPLICATE": "deduplicate",
    "MEM0_SESSION_TTL": "session_ttl", "MEM0_SWEEP_INTERVAL": "sweep_interval", "MEM0_MAX_BODY_BYTES": "max_body_bytes",
    "MEM0_IDEMPOTENCY_TTL": "idempotency_ttl",
    "MEM0_JOB_LEASE": "job_lease", "MEM0_JOB_MAX_ATTEMPTS": "job_max_attempts", "MEM0_JOB_BACKOFF": "job_backoff",
    "MEM0_JOB_POLL": "job_poll", "MEM0_JOB_RESCAN": "job_rescan", "MEM0_JOB_RETENTION": "job_retention",
    "MEM0_LOG_LEVEL": "log_level", "MEM0_LOG_FORMAT": "log_format",
    "MEM0_RATE_LIMIT": "rate_limit", "MEM0_RATE_LIMIT_BURST": "rate_limit_burst", "MEM0_CORS_ORIGINS": "cors_origins",
    "MEM0_AUTH_FAILURE_LIMIT": "auth_failure_limit", "MEM0_TRUSTED_PROXIES": "trusted_proxies",
    "MEM0_METRICS_PUBLIC": "metrics_public", "MEM0_KEY_CACHE_SECONDS": "key_cache_seconds",
    "MEM0_HEALTH_TIMEOUT": "health_timeout",
    "MEM0_MCP_USER_ID": "mcp_user_id", "MEM0_MCP_USER_ARGUMENT": "mcp_user_argument", "MEM0_UI": "ui",
    "MEM0_WEBHOOK_ALLOW_PRIVATE": "webhook_allow_private", "MEM0_WEBHOOK_TIMEOUT": "webhook_timeout",
    "MEM0_WEBHOOK_RETRY_BASE": "webhook_retry_base", "MEM0_WEBHOOK_RETRY_MAX": "webhook_retry_max",
    "MEM0_WEBHOOK_MAX_FAILURES": "webhook_max_failures", "MEM0_WEBHOOK_LOG_DAYS": "webhook_log_days",
}
# An Idempotency-Key's reservation is held for up to a minute while its request runs (api/idempotency.py): a shorter
# TTL could expire a live reservation and let a concurrent duplicate do the work twice. Ten years is "keep", and
# stays within what a date can be set back by.
LEASE_FLOOR = 60.0
TEN_YEARS = 10 * 365 * 86400.0
_VARIABLE = {field: var for var, field in ENV_VARS.items()}
_ERROR = "named_setting"  # an error whose message names its variable, shown as it is


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError(_ERROR, "{reason}", {"reason": message})


def _number(field: str, minimum: float, maximum: float = math.inf) -> BeforeValidator:
    """A finite number from `minimum` to `maximum`, with an error naming the environment variable."""
    var = _VARIABLE[field]

    def parse(value: object) -> object:
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise _refuse(f"{var} must be a number, got {value!r}") from None
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            return value  # None where allowed; anything else is refused by the field's type
        if not math.isfinite(number):
            raise _refuse(f"{var} must be a finite number, got {value!r}")
        if number < minimum:
            raise _refuse(f"{var} must be at least {minimum:g}, got {value!r}")
        if number > maximum:
            raise _refuse(f"{var} must be at most {maximum:g}, got {value!r}")
        return number
    return BeforeValidator(parse)


def _flag(field: str) -> BeforeValidator:
    var = _VARIABLE[field]

    def parse(value: object) -> object:
        if not isinstance(value, str):
            return value
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise _refuse(f"{var} must be true or false, got {value!r}")
    return BeforeValidator(parse)


def _log_format(value: object) -> object:
    if not isinstance(value, str):
        return value
    lowered = value.strip().lower() or "text"
    if lowered not in ("text", "json"):
        raise _refuse(f"MEM0_LOG_FORMAT must be text or json, got {lowered!r}")
    return lowered


def _networks(value: object) -> object:
    """Comma-separated addresses or networks (CIDR), checked here so a typo stops the service at start-up."""
    if not isinstance(value, str):
        return value
    networks = []
    for item in (v.strip() for v in value.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise _refuse(f"MEM0_TRUSTED_PROXIES must list IP addresses or networks (CIDR), got {item!r}") from None
    return tuple(networks)


def _origins(value: object) -> object:
    """Comma-separated, compared with the Origin header browsers send: without a trailing slash."""
    if not isinstance(value, str):
        return value
    return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())


class Settings(BaseModel):
    """Everything the service can be told. Field names mirror the environment variables."""

    api_keys: list[str] = Field(default_factory=list, description="Admin keys (MEM0_API_KEY, MEM0_API_KEYS)")
    host: str = "0.0.0.0"
    port: int = Field(3456, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="Server processes sharing the port")
    data_dir: Path = Path("./data")
    database_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    vector_index: VectorIndexKind = "embedded"
    embedder: EmbedderKind = "local"
    embedding_model: str = "text-embedding-ada-002"
    embedding_dims: int | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_timeout: float = 30.0
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    query_rewrite: Annotated[bool, _flag("query_rewrite")] = Field(
        False, description="Searches ask the chat model for alternative queries unless they say rewrite_query: false")
    query_rewrite_timeout: Annotated[float, _number("query_rewrite_timeout", 0.1, 120)] = Field(
        5.0, description="Seconds a search waits for the chat model's rewrite before it runs on the query as written")
    session_ttl: Annotated[float | None, _number("session_ttl", 1, TEN_YEARS)] = Field(
        None, description="Seconds of inactivity after which a session ends")
    sweep_interval: float = Field(60.0, gt=0)
    idempotency_ttl: Annotated[float, _number("idempotency_ttl", LEASE_FLOOR, TEN_YEARS)] = Field(
        86400.0, description="Seconds a stored Idempotency-Key answer is replayed; then the key can be used anew")
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    deduplicate: bool = True
    score_calibration: str | None = None
    keyword_weight: Annotated[float, _number("keyword_weight", 0, 1)] = Field(
        KEYWORD_WEIGHT, description="How far keyword evidence lifts a memory's relevance towards 1; 0 ranks by "
                                    "meaning alone")
    mcp_user_id: str | None = Field(None, pattern=r"^[\w.@:+\-]{1,128}$",
                                    description="The user an admin key's MCP tools act for by default")
    mcp_user_argument: bool = Field(False, description="Let MCP tools of keys not bound to a user name the user")
    ui: bool = Field(True, description="Serve the web console at /ui/ (MEM0_UI)")
    job_lease: float = Field(60.0, gt=0, description="Seconds a background job stays claimed without renewal")
    job_max_attempts: int = Field(8, ge=1, description="Attempts before a background job becomes a dead letter")
    job_backoff: float = Field(2.0, gt=0, description="First retry delay of a failed job; doubles per attempt")
    job_poll: float = Field(1.0, gt=0, description="Seconds between looks for jobs queued by other processes")
    job_rescan: float = Field(600.0, gt=0, description="Seconds between looks for conversations parked as "
                                                        "extraction: pending (also done at start-up)")
    job_retention: float = Field(7 * 86400.0, gt=0, description="Seconds the event of a done job stays readable")
    api_key_generated: bool = False
    webhook_allow_private: bool = Field(False, description="Let webhooks target private and loopback addresses")
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds a receiver has to answer one delivery")
    webhook_retry_base: float = Field(2.0, gt=0, description="Seconds before the first retry; doubled on each failure")
    webhook_retry_max: float = Field(3600.0, gt=0, description="The longest wait between two attempts")
    webhook_max_failures: int = Field(15, ge=1, description="Failed attempts in a row after which a webhook is disabled")
    webhook_log_days: float = Field(7.0, gt=0, description="Days a made delivery stays in the delivery log")
    # operations: logs, limits, browsers, metrics, health
    log_format: Annotated[LogFormat, BeforeValidator(_log_format)] = "text"
    rate_limit: Annotated[float, _number("rate_limit", 0)] = Field(
        0.0, description="Requests per minute allowed per API key; 0 turns rate limiting off")
    rate_limit_burst: Annotated[float | None, _number("rate_limit_burst", 1)] = Field(
        None, description="Requests a key may send at once (None: the per-minute limit)")
    auth_failure_limit: Annotated[float, _number("auth_failure_limit", 0)] = Field(
        0.0, description="Failed authentications allowed per minute from one client address; past it the address "
                         "gets 429 for every request with a key until its budget refills. 0 turns it off")
    trusted_proxies: Annotated[tuple[str, ...], BeforeValidator(_networks)] = Field(
        (), description="Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client")
    cors_origins: Annotated[tuple[str, ...], BeforeValidator(_origins)] = Field(
        (), description="Origins allowed to call the API from a browser (`*` for any); empty turns CORS off")
    metrics_public: Annotated[bool, _flag("metrics_public")] = Field(
        False, description="Serve GET /metrics without an API key")
    key_cache_seconds: Annotated[float, _number("key_cache_seconds", 0)] = Field(
        5.0, description="How long a scoped key lookup is cached")
    health_timeout: Annotated[float, _number("health_timeout", 0.1)] = Field(
        5.0, description="Seconds each dependency may take to answer a deep health check")

    @field_validator("database_url")
    @classmethod
    def _known_database_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgres://", "postgresql://", "sqlite:///")):
            raise ValueError("DATABASE_URL must start with postgresql:// (or sqlite:///path)")
        return value

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url or self.llm_base_url)

    @property
    def rate_limit_bucket(self) -> float:
        """Requests a key may send at once: the burst setting, else the per-minute limit; 0 without a limit."""
        if not self.rate_limit:
            return 0.0
        return max(self.rate_limit_burst if self.rate_limit_burst is not None else self.rate_limit, 1.0)

    @property
    def admin_key(self) -> str:
        return self.api_keys[0]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        values: dict[str, object] = {field: value for var, field in ENV_VARS.items()
                                     if field != "api_keys" and (value := get(var)) is not None}
        # Production is chosen by the presence of its settings; the embedded default needs none.
        values.setdefault("embedder", "openai" if get("OPENAI_API_KEY") else "local")
        values.setdefault("vector_index", "qdrant" if get("QDRANT_URL") else "embedded")
        keys = [get("MEM0_API_KEY"), *(get("MEM0_API_KEYS") or "").split(",")]
        values["api_keys"] = [k.strip() for k in keys if k and k.strip()]
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(e["msg"] if e["type"] == _ERROR else f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigError(f"Invalid configuration: {problems}") from None
        if settings.embedder == "openai" and not settings.openai_api_key and not settings.openai_base_url:
            raise ConfigError("MEM0_EMBEDDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)")
        return settings

    def ensure_api_key(self) -> Settings:
        """Without MEM0_API_KEY, generate one on first run and keep it in the data directory."""
        if self.api_keys:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.data_dir / "api_key"
        if key_file.exists():
            key = key_file.read_text().strip()
        else:
            key = "m0_" + secrets.token_urlsafe(32)
            key_file.write_text(key + "\n")
            key_file.chmod(0o600)
        return self.model_copy(update={"api_keys": [key], "api_key_generated": True})
