"""Password hashing (argon2id), access tokens (JWT) and device tokens (opaque)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
DEVICE_TOKEN_PREFIX = "hqd_"


def use_test_hashing() -> None:
    """Cheap argon2id parameters for the test suite only (HALLQ_ENVIRONMENT=test):
    the same KDF and code path, without 0.1 s per hash."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so that timing does not
# tell which usernames are real.
DUMMY_HASH = hash_password("not-a-real-password")


def make_access_token(secret: str, user_id: int, role: str, now: datetime, minutes: int) -> str:
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_access_token(secret: str, token: str, now: datetime) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["sub", "exp", "role"],
            },
        )
    except jwt.PyJWTError:
        return None
    # Time claims are checked against the app's clock (not PyJWT's wall clock),
    # so the simulator and tests can move time either way.
    issued = int(claims.get("iat", 0))
    if int(claims["exp"]) <= int(now.timestamp()) or claims.get("typ") != "access":
        return None
    if issued > int(now.timestamp()) + 300:
        return None
    return claims


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(24)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
