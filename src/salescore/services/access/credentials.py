"""Secrets at rest: argon2 for passwords, SHA-256 for random API keys (already 256 bits of
entropy, so a slow hash buys nothing and would cost every request)."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
API_KEY_PREFIX = "sck_"
# Verifying against this keeps a login for an unknown email as slow as for a known one.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_api_key() -> tuple[str, str, bytes]:
    """A fresh key: (the secret shown once, its display prefix, the hash kept)."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return secret, secret[:12], api_key_hash(secret)


def api_key_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)
