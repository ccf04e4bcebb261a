"""What a scoped key is, how its secret is made and how it is hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Access = Literal["read", "read_write"]
# Scoped keys carry a recognisable prefix so a lookup is only attempted for tokens that can be one,
# and so secret scanners can spot them in logs or repositories.
PREFIX = "m0s_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(token: str) -> str:
    # Keys are 256-bit random strings, so a fast digest is enough: there is no dictionary to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


@dataclass(frozen=True)
class ApiKey:
    id: str
    prefix: str
    name: str | None
    user_id: str | None
    agent_id: str | None
    access: Access
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def can_write(self) -> bool:
        return self.access == "read_write"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
