"""HMAC-SHA256 signatures of deliveries: `X-Mem0-Signature: v1=<hex>` over "<timestamp>.<body>"."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Mem0-Signature"
TIMESTAMP_HEADER = "X-Mem0-Timestamp"
EVENT_HEADER = "X-Mem0-Event"
DELIVERY_HEADER = "X-Mem0-Delivery"
# A receiver should refuse deliveries signed longer ago than this: a captured request cannot be replayed later.
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, body: bytes, timestamp: str, sent: str, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """The receiver's check (also the documented recipe): a fresh timestamp and a matching signature."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), sent)
