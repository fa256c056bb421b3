"""Opaque cursors: a keyset position, bound to the list and sort it came from and signed,
so that a cursor that was altered, or used on another list, is refused rather than
misread."""

import base64
import binascii
import hashlib
import hmac
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from salescore.domain.errors import InvalidInput

_ENCODERS: dict[type, str] = {
    bool: "b", int: "i", str: "s", Decimal: "d", datetime: "t", date: "D",
}
_DECODERS: dict[str, Any] = {
    "b": bool, "i": int, "s": str, "d": Decimal, "t": datetime.fromisoformat,
    "D": date.fromisoformat,
}


def _tag(value: Any) -> list[Any]:
    if value is None:
        return ["n", None]
    tag = _ENCODERS[type(value)]
    return [tag, value.isoformat() if isinstance(value, date) else
            value if isinstance(value, bool | int) else str(value)]


def _untag(tagged: list[Any]) -> Any:
    tag, value = tagged
    return None if tag == "n" else _DECODERS[tag](value)


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, scope: str, values: list[Any]) -> str:
        payload = json.dumps([scope, [_tag(v) for v in values]], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def decode(self, scope: str, cursor: str) -> list[Any]:
        """The values a cursor of `scope` carries; anything else is invalid input."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            signature, payload = raw[:16], raw[16:]
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("signature")
            found_scope, tagged = json.loads(payload)
            if found_scope != scope:
                raise ValueError("scope")
            return [_untag(t) for t in tagged]
        except (ValueError, TypeError, KeyError, binascii.Error, json.JSONDecodeError):
            raise InvalidInput.of("cursor", "is not a cursor this list gave out") from None
