"""Typed application state for the operational features (keys, limits, metrics)."""

from __future__ import annotations

from aiohttp import web

from mem0_service.auth import Authenticator
from mem0_service.keys.store import KeyStore
from mem0_service.metrics import Metrics
from mem0_service.ops.auth_failures import FailedAuthBudget
from mem0_service.ops.ratelimit import RateLimiter

METRICS = web.AppKey("metrics", Metrics)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
KEY_STORE = web.AppKey("key_store", KeyStore)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
AUTH_FAILURES = web.AppKey("auth_failures", FailedAuthBudget)
