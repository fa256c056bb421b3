"""What a verified e-signature callback says, and the checks every kind's body goes through.

A field of a body is named by its dotted path (`data.signer.email`, `...signers.0.name`), as
422 problems name fields. Text must be storable: no NUL characters, no lone surrogates."""

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

NAME_MAX = 200
EMAIL_MAX = 320
COMMENT_MAX = 10_000
# Ids and type names of a delivery (the log keeps them as they came).
TOKEN_MAX = 200
ID_MAX = 2**63 - 1


class CallbackKind(StrEnum):
    SIGNED = "signed"
    CHANGE_REQUESTED = "change_requested"
    REJECTED = "rejected"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Callback:
    """A verified delivery: which answer it brings to which quote, and from whom."""

    delivery_id: str
    event_type: str
    kind: CallbackKind
    quote_id: int | None
    signer_name: str | None
    signer_email: str | None
    comment: str | None
    signed_at: datetime | None
    document_pdf: bytes | None


class BadSignature(Exception):
    """The delivery is not proven to come from the provider: no signature matches any of its
    secrets, or a header is missing or out of date. The message never holds a secret or a
    signature."""


class MalformedCallback(Exception):
    """A verified delivery whose body is not what its kind sends; `field` names the part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def json_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, in UTF-8."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise MalformedCallback("body", "must be a JSON object in UTF-8") from None
    return json_object(value, "body")


def json_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedCallback(field, "must be a JSON object")
    return value


def optional_object(value: Any, field: str) -> dict[str, Any] | None:
    return None if value is None else json_object(value, field)


def optional_list(value: Any, field: str) -> list[Any]:
    """A JSON array; absent or null is an empty one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedCallback(field, "must be a JSON array")
    return value


def optional_text(value: Any, field: str, max_length: int) -> str | None:
    """Trimmed text of at most `max_length` characters; absent, null or blank is None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedCallback(field, "must be a string")
    if len(value) > max_length:
        raise MalformedCallback(field, f"must be at most {max_length} characters")
    if "\x00" in value or not _encodable(value):
        raise MalformedCallback(field, "must not contain NUL characters or lone surrogates")
    return value.strip() or None


def required_text(value: Any, field: str, max_length: int) -> str:
    text = optional_text(value, field, max_length)
    if text is None:
        raise MalformedCallback(field, "is required")
    return text


def quote_id_of(value: Any, field: str, *, digits_allowed: bool = False) -> int:
    """A quote's id: a positive JSON integer in the range of ids (or, where the provider
    only carries strings, a string of ASCII digits)."""
    if digits_allowed and isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        raise MalformedCallback(field, "must be a positive integer")
    return value


def optional_instant(value: Any, field: str) -> datetime | None:
    """An ISO 8601 date and time with its offset (`Z` or `+01:00`); absent or null is None."""
    if value is None:
        return None
    parsed = None
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise MalformedCallback(field, "must be an ISO 8601 date-time with a time zone offset")
    return parsed


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
