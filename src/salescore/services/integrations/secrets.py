"""The keeping of provider secrets: HMAC keys must be kept whole (a hash cannot verify a
signature), so they are stored encrypted and shown only in the answers to create and to
rotate-secret, never in a log.

A stored secret is `v1.` and the URL-safe base64 of a fresh 96-bit nonce and the AES-256-GCM
ciphertext, under the key of `Settings.secrets_encryption_key()` (SALESCORE_SECRETS_KEY,
else `<data dir>/secrets-key`): losing that key loses every stored secret."""

import base64
import binascii
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1."
_NONCE_BYTES = 12
_KEY_BYTES = 32
# Binds a token to its use: a ciphertext made for something else does not decrypt as one.
_ASSOCIATED = b"salescore provider secret v1"
REDACTED = "[redacted]"
_SECRET_HEADERS = re.compile(r"webhook-signature|x-docusign-signature-[0-9]+|authorization"
                             r"|cookie")


class SecretUnreadable(Exception):
    """A stored secret that does not decrypt under the configured key."""


def encrypt_secret(plain: str, key: bytes) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, plain.encode("utf-8"), _ASSOCIATED)
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt_secret(token: str, key: bytes) -> str:
    cipher = _cipher(key)
    try:
        if not token.startswith(_VERSION):
            raise ValueError("not a v1 token")
        raw = base64.urlsafe_b64decode(token[len(_VERSION):].encode("ascii"))
        return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _ASSOCIATED).decode()
    except (InvalidTag, ValueError, binascii.Error):
        raise SecretUnreadable(
            "a stored provider secret does not decrypt: it was encrypted under another "
            "secrets key (SALESCORE_SECRETS_KEY or <data dir>/secrets-key) or is damaged"
        ) from None


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers, fit for a log: signatures and credentials replaced by `[redacted]`."""
    return {name: REDACTED if _SECRET_HEADERS.fullmatch(name.lower()) else value
            for name, value in headers.items()}


def _cipher(key: bytes) -> AESGCM:
    if len(key) != _KEY_BYTES:
        raise ValueError(f"the secrets key must be {_KEY_BYTES} bytes, not {len(key)}")
    return AESGCM(key)
