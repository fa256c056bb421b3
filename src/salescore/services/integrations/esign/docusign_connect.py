"""DocuSign Connect callbacks (the JSON SIM format), verified by Connect's HMAC.

Connect signs the raw body under each of the account's HMAC keys: `X-DocuSign-Signature-1`,
`-2`, ... (any case) each hold the base64 of HMAC-SHA256 of the body under a key's UTF-8
bytes; one matching one of the provider's secrets verifies. Connect sends no timestamp to
bound a delivery's age: a replay is stopped by the once-per-delivery-id rule, the delivery
id being `envelopeId:event:generatedDateTime`.

`envelope-completed` signs the quote and `envelope-declined` rejects it (the comment is the
decliner's `declinedReason`); every other event is acknowledged and ignored, whatever else
its body holds. The quote is the envelope's text custom field `salescore_quote_id`; an
envelope without one is not a quote of ours (`quote_id` None). The signer is the first of
`recipients.signers` (for a decline, the first whose status is `declined`); the time of
signing is the signer's `signedDateTime`, else the envelope's `completedDateTime`. Connect
is to be set to JSON SIM with HMAC, custom fields and recipients included."""

import base64
import hashlib
import hmac
import re
import secrets as random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

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
    optional_list,
    optional_object,
    optional_text,
    quote_id_of,
    required_text,
)
from salescore.domain.integrations.providers import ProviderKind

QUOTE_FIELD = "salescore_quote_id"
_SIGNATURE_HEADER = re.compile(r"x-docusign-signature-[0-9]+")
_KINDS = {"envelope-completed": CallbackKind.SIGNED, "envelope-declined": CallbackKind.REJECTED}
_SUMMARY = "data.envelopeSummary"


class DocusignConnect:
    kind = ProviderKind.DOCUSIGN_CONNECT

    def new_secret(self) -> str:
        return base64.b64encode(random.token_bytes(32)).decode("ascii")

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str],
               now: datetime) -> Callback:
        signatures = [value.strip().encode("ascii") for name, value in headers.items()
                      if _SIGNATURE_HEADER.fullmatch(name.lower()) and value.isascii()]
        if not signatures:
            raise BadSignature("no X-DocuSign-Signature-N header")
        if not any(_matches(secret, body, signatures) for secret in secrets):
            raise BadSignature("no X-DocuSign-Signature-N matches the provider's secret")
        return _callback(json_body(body))


def _matches(secret: str, body: bytes, signatures: list[bytes]) -> bool:
    try:
        key = secret.encode("utf-8")
    except UnicodeEncodeError:
        return False
    if not key:
        return False
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def _callback(body: dict[str, Any]) -> Callback:
    event = required_text(body.get("event"), "event", TOKEN_MAX)
    kind = _KINDS.get(event, CallbackKind.IGNORED)
    try:
        return _read(body, event, kind)
    except MalformedCallback:
        if kind is not CallbackKind.IGNORED:
            raise
    return Callback(delivery_id=_loose_delivery_id(body, event), event_type=event,
                    kind=kind, quote_id=None, signer_name=None, signer_email=None,
                    comment=None, signed_at=None, document_pdf=None)


def _read(body: dict[str, Any], event: str, kind: CallbackKind) -> Callback:
    data = json_object(body.get("data"), "data")
    envelope = required_text(data.get("envelopeId"), "data.envelopeId", TOKEN_MAX)
    generated = required_text(body.get("generatedDateTime"), "generatedDateTime", TOKEN_MAX)
    summary = optional_object(data.get("envelopeSummary"), _SUMMARY) or {}
    found = None if kind is CallbackKind.IGNORED else _signer(summary, kind)
    at, signer = found or ("", {})
    signed_at = None
    if kind is CallbackKind.SIGNED:
        signed_at = (optional_instant(signer.get("signedDateTime"), f"{at}.signedDateTime")
                     or optional_instant(summary.get("completedDateTime"),
                                         f"{_SUMMARY}.completedDateTime"))
    comment = None
    if kind is CallbackKind.REJECTED:
        comment = optional_text(signer.get("declinedReason"), f"{at}.declinedReason",
                                COMMENT_MAX)
    return Callback(
        delivery_id=f"{envelope}:{event}:{generated}", event_type=event, kind=kind,
        quote_id=_quote_id(summary),
        signer_name=optional_text(signer.get("name"), f"{at}.name", NAME_MAX),
        signer_email=optional_text(signer.get("email"), f"{at}.email", EMAIL_MAX),
        comment=comment, signed_at=signed_at, document_pdf=None)


def _quote_id(summary: dict[str, Any]) -> int | None:
    custom = optional_object(summary.get("customFields"), f"{_SUMMARY}.customFields") or {}
    path = f"{_SUMMARY}.customFields.textCustomFields"
    for index, item in enumerate(optional_list(custom.get("textCustomFields"), path)):
        field = json_object(item, f"{path}.{index}")
        if field.get("name") == QUOTE_FIELD:
            return quote_id_of(field.get("value"), f"{path}.{index}.value",
                               digits_allowed=True)
    return None


def _signer(summary: dict[str, Any], kind: CallbackKind) -> tuple[str, dict[str, Any]] | None:
    """The signer who answered, and where in the body it is."""
    recipients = optional_object(summary.get("recipients"), f"{_SUMMARY}.recipients") or {}
    path = f"{_SUMMARY}.recipients.signers"
    signers = optional_list(recipients.get("signers"), path)
    if not signers:
        return None
    index = 0
    if kind is CallbackKind.REJECTED:
        index = next((i for i, signer in enumerate(signers)
                      if isinstance(signer, dict) and signer.get("status") == "declined"), 0)
    return f"{path}.{index}", json_object(signers[index], f"{path}.{index}")


def _loose_delivery_id(body: dict[str, Any], event: str) -> str:
    """The delivery id of an ignored event, from whichever of its parts are there."""
    data = body.get("data")
    envelope = data.get("envelopeId") if isinstance(data, dict) else None
    return ":".join(_text_or_empty(part)
                    for part in (envelope, event, body.get("generatedDateTime")))


def _text_or_empty(value: Any) -> str:
    try:
        return optional_text(value, "", TOKEN_MAX) or ""
    except MalformedCallback:
        return ""


ADAPTER = DocusignConnect()
