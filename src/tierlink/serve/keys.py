"""API keys: random secrets shown once, stored only as SHA-256 hashes.

A key is 32 random bytes (256 bits), so a fast hash is enough: nobody can brute-force it, and
a lookup per request stays cheap (a slow password hash would cost milliseconds per request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pydantic import BaseModel, ConfigDict

PREFIX = "tl-"


def new_secret() -> str:
    """A fresh API key secret (`tl-` + 256 random bits), shown to its owner once."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a secret: all the store keeps, and what key lookups match."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Compare two hashes in constant time, so a timing attack learns nothing."""
    return hmac.compare_digest(a, b)


class KeyRecord(BaseModel):
    """A key as stored: never the secret, only its hash and a short prefix to recognise it."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    hint: str  # the first characters of the secret, to tell keys apart in a listing
    created: float
    revoked: bool = False
    dollars_limit: float | None = None  # total spend allowed; None = unlimited
    requests_per_minute: int | None = None  # None = unlimited
    private: bool = False  # every request of this key stays in the device's privacy zones
    zones: tuple[str, ...] = ()  # the only privacy zones this key's requests may reach (empty: any)
