"""Standard Webhooks callbacks (https://www.standardwebhooks.com), verified with the
`standardwebhooks` package.

Headers `webhook-id` (the delivery id), `webhook-timestamp` (integer Unix seconds) and
`webhook-signature` (`v1,<base64>`, several separated by spaces); the secret is `whsec_` and
the base64 of 32 random bytes. A timestamp more than five minutes from `now` is refused: the
package checks the same window against the system clock (its API takes no time), so both
hold. Body: `{"type": "quote.signed" | "quote.change_requested" | "quote.rejected",
"timestamp", "data": {"quote_id", "signer": {"name", "email"}, "comment"?, "signed_at"?,
"document_pdf_base64"?}}`; a change request must say what to change (`comment`), as on the
quote's link. Unknown members are ignored."""

import base64
import binascii
import secrets as random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from salescore.domain.integrations.callbacks import (
    COMMENT_MAX,
    EMAIL_MAX,
    NAME_MAX,
    TOKEN_MAX,
    BadSignature,
    Callback,
    CallbackKind,
    MalformedCallback,
    json_body,
    json_object,
    optional_instant,
    optional_text,
    quote_id_of,
    required_text,
)
from salescore.domain.integrations.providers import ProviderKind

TOLERANCE = timedelta(minutes=5)
_TYPES = {"quote.signed": CallbackKind.SIGNED,
          "quote.change_requested": CallbackKind.CHANGE_REQUESTED,
          "quote.rejected": CallbackKind.REJECTED}
# Everything the package (or base64 under it) raises on a bad secret, header or signature.
_UNVERIFIED = (WebhookVerificationError, EmptyWebhookSecretError, ValueError, TypeError,
               KeyError, binascii.Error)


class StandardWebhooks:
    kind = ProviderKind.STANDARD_WEBHOOKS

    def new_secret(self) -> str:
        return "whsec_" + base64.b64encode(random.token_bytes(32)).decode("ascii")

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str],
               now: datetime) -> Callback:
        lowered = {name.lower(): value for name, value in headers.items()}
        delivery_id, timestamp = lowered.get("webhook-id"), lowered.get("webhook-timestamp")
        if not (delivery_id and timestamp and lowered.get("webhook-signature")):
            raise BadSignature("webhook-id, webhook-timestamp or webhook-signature is missing")
        _check_window(timestamp, now)
        if not any(_verifies(secret, body, lowered) for secret in secrets):
            raise BadSignature("no webhook-signature matches the provider's secret")
        return _callback(required_text(delivery_id, "webhook-id", TOKEN_MAX), json_body(body))


def _check_window(timestamp: str, now: datetime) -> None:
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise BadSignature("webhook-timestamp is not a number of seconds")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
        raise BadSignature("webhook-timestamp is more than 5 minutes away")


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except _UNVERIFIED:
        return False
    return True


def _callback(delivery_id: str, body: dict[str, Any]) -> Callback:
    event_type = body.get("type")
    if not isinstance(event_type, str) or event_type not in _TYPES:
        raise MalformedCallback("type", f"must be one of {', '.join(_TYPES)}")
    kind = _TYPES[event_type]
    if optional_instant(body.get("timestamp"), "timestamp") is None:
        raise MalformedCallback("timestamp", "is required")
    data = json_object(body.get("data"), "data")
    signer = json_object(data.get("signer"), "data.signer")
    comment = optional_text(data.get("comment"), "data.comment", COMMENT_MAX)
    if kind is CallbackKind.CHANGE_REQUESTED and comment is None:
        raise MalformedCallback("data.comment", "is required when a change is requested")
    return Callback(
        delivery_id=delivery_id, event_type=event_type, kind=kind,
        quote_id=quote_id_of(data.get("quote_id"), "data.quote_id"),
        signer_name=required_text(signer.get("name"), "data.signer.name", NAME_MAX),
        signer_email=required_text(signer.get("email"), "data.signer.email", EMAIL_MAX),
        comment=comment,
        signed_at=optional_instant(data.get("signed_at"), "data.signed_at"),
        document_pdf=_pdf(data.get("document_pdf_base64"), "data.document_pdf_base64"))


def _pdf(value: Any, field: str) -> bytes | None:
    if value is None:
        return None
    try:
        pdf = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except ValueError:  # binascii.Error, or a character outside ASCII
        pdf = b""
    if not pdf.startswith(b"%PDF-"):
        raise MalformedCallback(field, "must be a PDF document in base64")
    return pdf


ADAPTER = StandardWebhooks()
