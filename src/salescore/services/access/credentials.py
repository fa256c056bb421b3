"""Secrets at rest: argon2 for passwords, SHA-256 for random API keys (already 256 bits of
entropy, so a slow hash buys nothing and would cost every request)."""

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
API_KEY_PREFIX = "sck_"
# Verifying against this keeps a login for an unknown email as slow as for a known one.
_dummy_hash = _hasher.hash("not-a-password")


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash passwords with `hasher` from now on (argon2's defaults until then). For a test
    suite, which makes thousands of users and may use argon2's cheapest parameters: a
    hash made before still verifies, as argon2 reads the parameters from the hash."""
    global _hasher, _dummy_hash
    _hasher, _dummy_hash = hasher, hasher.hash("not-a-password")


async def hash_password(password: str) -> str:
    """The password's argon2 hash, made in a thread: a hash takes a tenth of a second,
    which the event loop would otherwise spend away from every other request."""
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password is the hash's (in a thread, as `hash_password`); with no hash,
    False after as long as a check takes."""
    return await asyncio.to_thread(_matches, _hasher, password_hash or _dummy_hash,
                                   password) and bool(password_hash)


def _matches(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
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
