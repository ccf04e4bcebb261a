"""Settings read from the environment once, validated at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from mem0_service.errors import ConfigError

EmbedderKind = Literal["local", "openai"]
VectorIndexKind = Literal["embedded", "qdrant"]


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
    session_ttl: float | None = Field(None, gt=0, description="Seconds of inactivity after which a session ends")
    sweep_interval: float = Field(60.0, gt=0)
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    deduplicate: bool = True
    score_calibration: str | None = None
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
    def admin_key(self) -> str:
        return self.api_keys[0]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        values: dict[str, object] = {}
        for field, var in [
            ("host", "MEM0_HOST"), ("port", "MEM0_PORT"), ("workers", "MEM0_WORKERS"), ("data_dir", "MEM0_DATA_DIR"),
            ("database_url", "DATABASE_URL"), ("qdrant_url", "QDRANT_URL"), ("qdrant_api_key", "QDRANT_API_KEY"),
            ("embedding_model", "MEM0_EMBEDDING_MODEL"), ("embedding_dims", "MEM0_EMBEDDING_DIMS"),
            ("openai_api_key", "OPENAI_API_KEY"), ("openai_base_url", "OPENAI_BASE_URL"),
            ("openai_timeout", "MEM0_OPENAI_TIMEOUT"), ("llm_model", "MEM0_LLM_MODEL"),
            ("llm_base_url", "MEM0_LLM_BASE_URL"), ("session_ttl", "MEM0_SESSION_TTL"),
            ("sweep_interval", "MEM0_SWEEP_INTERVAL"),
            ("max_body_bytes", "MEM0_MAX_BODY_BYTES"), ("log_level", "MEM0_LOG_LEVEL"), ("deduplicate", "MEM0_DEDUPLICATE"),
            ("score_calibration", "MEM0_SCORE_CALIBRATION"), ("ui", "MEM0_UI"),
            ("mcp_user_id", "MEM0_MCP_USER_ID"), ("mcp_user_argument", "MEM0_MCP_USER_ARGUMENT"),
            ("webhook_allow_private", "MEM0_WEBHOOK_ALLOW_PRIVATE"), ("webhook_timeout", "MEM0_WEBHOOK_TIMEOUT"),
            ("webhook_retry_base", "MEM0_WEBHOOK_RETRY_BASE"), ("webhook_retry_max", "MEM0_WEBHOOK_RETRY_MAX"),
            ("webhook_max_failures", "MEM0_WEBHOOK_MAX_FAILURES"), ("webhook_log_days", "MEM0_WEBHOOK_LOG_DAYS"),
            ("job_lease", "MEM0_JOB_LEASE"), ("job_max_attempts", "MEM0_JOB_MAX_ATTEMPTS"),
            ("job_backoff", "MEM0_JOB_BACKOFF"), ("job_poll", "MEM0_JOB_POLL"), ("job_rescan", "MEM0_JOB_RESCAN"),
            ("job_retention", "MEM0_JOB_RETENTION"),
        ]:
            if (value := get(var)) is not None:
                values[field] = value
        # Production is chosen by the presence of its settings; the embedded default needs none.
        values["embedder"] = get("MEM0_EMBEDDER") or ("openai" if get("OPENAI_API_KEY") else "local")
        values["vector_index"] = get("MEM0_VECTOR_INDEX") or ("qdrant" if get("QDRANT_URL") else "embedded")
        keys = [k for k in [get("MEM0_API_KEY"), *(get("MEM0_API_KEYS") or "").split(",")] if k and k.strip()]
        values["api_keys"] = [k.strip() for k in keys]
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
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
