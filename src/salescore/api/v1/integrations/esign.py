"""E-signature providers (`integrations:*`) and the route their callbacks come to."""

from datetime import UTC, datetime
from functools import partial
from typing import Annotated

from fastapi import Body, Depends, Request, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.integrations.schemas import (
    CALLBACKS,
    CallbackAnswer,
    CallbackRead,
    ProviderCreate,
    ProviderRead,
    ProviderUpdate,
    ProviderWithSecret,
    SecretRotation,
)
from salescore.api.v1.schemas import Id
from salescore.domain.integrations.providers import ProviderKind
from salescore.services.integrations import callbacks, providers

router = Router(tags=["e-signature providers"])
ProviderList = Annotated[ListRequest, Depends(list_parameters("esign providers", [
    Filter("id", int, ranges=True), Filter("kind", ProviderKind), Filter("active", bool),
], sorts=("id", "created_at")))]
CallbackList = Annotated[ListRequest, Depends(list_parameters("esign callbacks", [
    Filter("id", int, ranges=True), Filter("applied", bool), Filter("verified", bool),
    Filter("quote_id", int), Filter("received_at", datetime, ranges=True),
], sorts=("id", "received_at")))]


@router.post("/v1/esign-providers", response_model=ProviderWithSecret,
             status_code=status.HTTP_201_CREATED, responses=problem_responses())
async def create_esign_provider(body: ProviderCreate, caller: CallerDep, uow: UnitOfWorkDep,
                                state: AppStateDep,
                                response: Response) -> ProviderWithSecret:
    """An e-signature provider that may call back on signed quotes (needs
    `integrations:write`). Give the provider the answer's `callback_url` and `secret`; the
    secret (the one given, or a new one) is in this answer only."""
    settings = state.settings
    provider, secret = await providers.create_provider(
        uow, caller=caller, **body.model_dump(), key=settings.secrets_encryption_key())
    response.headers["ETag"] = etag(provider.version)
    response.headers["Location"] = f"/v1/esign-providers/{provider.id}"
    read = ProviderRead.of(provider, settings.public_base())
    return ProviderWithSecret(**read.model_dump(), secret=secret)


@router.get("/v1/esign-providers", response_model=PageOf[ProviderRead])
async def list_esign_providers(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                               request: ProviderList) -> Response:
    """The organization's e-signature providers with their callback URLs, never their
    secrets (needs `integrations:read`)."""
    page = await providers.list_providers(uow, caller=caller, query=request.query)
    return page_response(state, request, page,
                         partial(ProviderRead.of, public_base=state.settings.public_base()))


@router.get("/v1/esign-providers/{provider_id}", response_model=ProviderRead,
            responses=problem_responses(404))
async def read_esign_provider(provider_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                              state: AppStateDep, response: Response) -> ProviderRead:
    """One e-signature provider (without its secret), and its ETag."""
    provider = await providers.get_provider(uow, caller=caller, provider_id=provider_id)
    response.headers["ETag"] = etag(provider.version)
    return ProviderRead.of(provider, state.settings.public_base())


@router.patch("/v1/esign-providers/{provider_id}", response_model=ProviderRead,
              responses=problem_responses(404, 412))
async def update_esign_provider(provider_id: Id, body: ProviderUpdate, caller: CallerDep,
                                uow: UnitOfWorkDep, state: AppStateDep, if_match: IfMatchDep,
                                response: Response) -> ProviderRead:
    """Rename the provider or (de)activate it; an inactive provider's callbacks are
    refused (401)."""
    provider = await providers.update_provider(uow, caller=caller, provider_id=provider_id,
                                               values=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(provider.version)
    return ProviderRead.of(provider, state.settings.public_base())


@router.delete("/v1/esign-providers/{provider_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 412))
async def delete_esign_provider(provider_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                if_match: IfMatchDep) -> None:
    """Remove the provider; its callback URL answers 404 from then on."""
    await providers.delete_provider(uow, caller=caller, provider_id=provider_id,
                                    if_match=if_match)


@router.post("/v1/esign-providers/{provider_id}/rotate-secret",
             response_model=ProviderWithSecret, responses=problem_responses(404))
async def rotate_esign_provider_secret(provider_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                       state: AppStateDep, response: Response,
                                       body: Annotated[SecretRotation | None, Body()] = None,
                                       ) -> ProviderWithSecret:
    """A new secret (the one given, or a new one), in this answer only; the previous one
    verifies for 24 hours more."""
    settings = state.settings
    provider, secret = await providers.rotate_secret(
        uow, caller=caller, provider_id=provider_id, key=settings.secrets_encryption_key(),
        secret=body.secret if body else None)
    response.headers["ETag"] = etag(provider.version)
    read = ProviderRead.of(provider, settings.public_base())
    return ProviderWithSecret(**read.model_dump(), secret=secret)


@router.get("/v1/esign-providers/{provider_id}/callbacks", response_model=PageOf[CallbackRead],
            responses=problem_responses(404))
async def list_esign_callbacks(provider_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                               state: AppStateDep, request: CallbackList) -> Response:
    """The log of the provider's callbacks, refused ones included."""
    page = await providers.list_callbacks(uow, caller=caller, provider_id=provider_id,
                                          query=request.query)
    return page_response(state, request, page, CallbackRead.of)


@router.post(CALLBACKS + "{provider_id}", response_model=CallbackAnswer,
             responses=problem_responses(401, 404))
async def receive_esign_callback(provider_id: Id, request: Request, uow: UnitOfWorkDep,
                                 state: AppStateDep) -> CallbackAnswer:
    """The provider's callback; no bearer token: its signature is the credential. The body
    is read as it came, for the signature; it may be larger than other requests'
    (`SALESCORE_MAX_CALLBACK_BODY_BYTES`, for the signed PDF)."""
    outcome = await callbacks.receive_callback(
        uow, provider_id=provider_id, body=await request.body(),
        headers=dict(request.headers), key=state.settings.secrets_encryption_key(),
        now=datetime.now(UTC))
    return CallbackAnswer(applied=outcome.applied, reason=outcome.reason)
