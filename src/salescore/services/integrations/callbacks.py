"""Callbacks from e-signature providers (DESIGN.md, "Webhooks in").

The signature is the credential: a callback is verified by its provider's kind (the
current secret, or the previous one for 24 hours after a rotation); a bad signature, a
Standard Webhooks timestamp outside five minutes, or an inactive provider is 401, and a
body that verifies but is not what the kind sends is 422. A verified delivery is handled
once per delivery id: its log row and its effects are written in one transaction, and a
replay finds the first and changes nothing. One that cannot apply (no such quote in the
provider's organization, a quote not sent, already answered, expired or superseded, an
event that is no answer) is acknowledged with `applied: false` and its reason, logged,
and changes nothing else; a callback never moves a quote backwards."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from salescore.domain.errors import InvalidInput, NotAuthenticated, NotFound
from salescore.domain.integrations.providers import EsignProvider
from salescore.domain.quotes.quotes import Answer, QuoteStatus
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.esign import (
    ADAPTERS,
    BadSignature,
    Callback,
    CallbackKind,
    MalformedCallback,
)
from salescore.services.integrations.secrets import decrypt_secret
from salescore.services.quotes.answers import Answerer, apply_answer
from salescore.services.quotes.quotes import today_in

log = logging.getLogger("salescore")
_ANSWERS = {CallbackKind.SIGNED: Answer.SIGNED,
            CallbackKind.CHANGE_REQUESTED: Answer.CHANGE_REQUESTED,
            CallbackKind.REJECTED: Answer.REJECTED}


@dataclass(frozen=True, slots=True)
class Outcome:
    applied: bool
    reason: str | None = None


async def receive_callback(uow: UnitOfWork, *, provider_id: int, body: bytes,
                           headers: Mapping[str, str], key: bytes, now: datetime) -> Outcome:
    async with uow:
        found = await uow.esign.with_secrets(provider_id)
        if found is None:
            raise NotFound("e-signature provider")
        provider, stored = found
        org = provider.organization_id
        try:
            if not provider.active:
                raise BadSignature("the provider is not active")
            callback = ADAPTERS[provider.kind.value].verify(
                body=body, headers=headers, now=now,
                secrets=[decrypt_secret(s, key) for s in stored.valid_at(now)])
        except BadSignature as error:
            await _refused(uow, provider, verified=False, reason=f"not verified: {error}")
            raise NotAuthenticated("the callback's signature does not verify") from None
        except MalformedCallback as error:
            await _refused(uow, provider, verified=True,
                           reason=f"malformed: {error.field}: {error}")
            raise InvalidInput.of(error.field, str(error)) from None
        logged = await uow.esign.log(org, {
            "provider_id": provider.id, "webhook_id": callback.delivery_id,
            "type": callback.event_type, "quote_id": callback.quote_id, "verified": True})
        if logged is None:
            return Outcome(False, "this delivery was received before")
        outcome = await _apply(uow, provider, callback, now)
        await uow.esign.settle(org, logged.id, applied=outcome.applied,
                               reason=outcome.reason)
        await uow.commit()
    if not outcome.applied:
        log.info("e-signature callback %s of provider %s not applied: %s",
                 callback.delivery_id, provider.id, outcome.reason)
    return outcome


async def _refused(uow: UnitOfWork, provider: EsignProvider, *, verified: bool,
                   reason: str) -> None:
    """Keep the refusal in the log (its own commit: the request fails after it)."""
    await uow.esign.log(provider.organization_id, {
        "provider_id": provider.id, "verified": verified, "reason": reason[:500]})
    await uow.commit()
    log.info("e-signature callback of provider %s refused: %s", provider.id, reason)


async def _apply(uow: UnitOfWork, provider: EsignProvider, callback: Callback,
                 now: datetime) -> Outcome:
    answer = _ANSWERS.get(callback.kind)
    if answer is None:
        return Outcome(False, f"{callback.event_type} is not an answer to a quote")
    if callback.quote_id is None:
        return Outcome(False, "the callback names no quote")
    org = provider.organization_id
    quote = await uow.quotes.get(org, callback.quote_id, for_update=True)
    if quote is None:
        return Outcome(False, "no such quote in the provider's organization")
    organization = await uow.organizations.get(org)
    assert organization is not None
    status = quote.status_on(today_in(organization, now))
    if status is QuoteStatus.DRAFT:
        return Outcome(False, "the quote has not been sent")
    if status is not QuoteStatus.SENT:
        return Outcome(False, f"the quote is {status.value}")
    await apply_answer(uow, quote, organization, answer, Answerer(
        name=callback.signer_name, email=callback.signer_email, ip=None, user_agent=None,
        method=f"provider:{provider.kind.value}", signed_at=callback.signed_at),
        callback.comment, now,
        signed_pdf=callback.document_pdf)
    return Outcome(True)
