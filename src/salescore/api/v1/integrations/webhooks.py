"""Outbound webhooks (`webhooks:*`): endpoints, their deliveries and attempts, redelivery
and recovery; and the event types they may take (`events:read`)."""

from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import (
    AppStateDep,
    CallerDep,
    IfMatchDep,
    ResolverDep,
    UnitOfWorkDep,
    etag,
)
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.integrations.webhook_schemas import (
    AttemptRead,
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    EventTypeList,
    EventTypeRead,
    Recovery,
    RecoveryAnswer,
)
from salescore.api.v1.schemas import Id
from salescore.domain.integrations.webhooks import DeliveryStatus, Endpoint
from salescore.services.integrations import webhooks

router = Router(prefix="/v1")
WEBHOOKS: list[str | Enum] = ["webhooks"]
ENDPOINTS = "/webhook-endpoints"
ONE = ENDPOINTS + "/{endpoint_id}"
DELIVERY = "/webhook-deliveries/{delivery_id}"
EndpointList = Annotated[ListRequest, Depends(list_parameters("webhook endpoints", [
    Filter("id", int, ranges=True), Filter("active", bool),
    Filter("created_at", datetime, ranges=True),
], sorts=("id", "created_at")))]
DeliveryList = Annotated[ListRequest, Depends(list_parameters("webhook deliveries", [
    Filter("id", int, ranges=True), Filter("status", DeliveryStatus),
    Filter("event_id", int, ranges=True), Filter("event_type", str),
    Filter("created_at", datetime, ranges=True),
    Filter("next_attempt_at", datetime, ranges=True),
], sorts=("id", "created_at", "next_attempt_at")))]
AttemptList = Annotated[ListRequest, Depends(list_parameters("webhook attempts", [
    Filter("id", int, ranges=True), Filter("status_code", int),
    Filter("attempted_at", datetime, ranges=True),
], sorts=("id", "attempted_at")))]


def _with_secret(endpoint: Endpoint, secret: str, response: Response) -> EndpointWithSecret:
    response.headers["ETag"] = etag(endpoint.version)
    return EndpointWithSecret(**EndpointRead.of(endpoint).model_dump(), secret=secret)


@router.post(ENDPOINTS, response_model=EndpointWithSecret, tags=WEBHOOKS,
             status_code=status.HTTP_201_CREATED, responses=problem_responses())
async def create_webhook_endpoint(body: EndpointCreate, caller: CallerDep, uow: UnitOfWorkDep,
                                  state: AppStateDep, resolver: ResolverDep,
                                  response: Response) -> EndpointWithSecret:
    """A URL that gets the change feed's events as signed Standard Webhooks messages
    (needs `webhooks:write`); `event_types` picks the types, empty for all. The URL must be
    `https://` on a public address unless the server allows private networks. The answer
    carries the signing secret, this once."""
    settings = state.settings
    endpoint, secret = await webhooks.create_endpoint(
        uow, caller=caller, **body.model_dump(), key=settings.secrets_encryption_key(),
        allow_private=settings.webhook_allow_private_networks, resolver=resolver)
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return _with_secret(endpoint, secret, response)


@router.get(ENDPOINTS, response_model=PageOf[EndpointRead], tags=WEBHOOKS)
async def list_webhook_endpoints(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                                 request: EndpointList) -> Response:
    """The organization's webhook endpoints, disabled ones too, never their secrets
    (needs `webhooks:read`)."""
    page = await webhooks.list_endpoints(uow, caller=caller, query=request.query)
    return page_response(state, request, page, EndpointRead.of)


@router.get(ONE, response_model=EndpointRead, tags=WEBHOOKS, responses=problem_responses(404))
async def read_webhook_endpoint(endpoint_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                response: Response) -> EndpointRead:
    """One webhook endpoint (without its secret): whether it is active, and why it was
    disabled if it was; and its ETag."""
    endpoint = await webhooks.get_endpoint(uow, caller=caller, endpoint_id=endpoint_id)
    response.headers["ETag"] = etag(endpoint.version)
    return EndpointRead.of(endpoint)


@router.patch(ONE, response_model=EndpointRead, tags=WEBHOOKS,
              responses=problem_responses(404, 412))
async def update_webhook_endpoint(endpoint_id: Id, body: EndpointUpdate, caller: CallerDep,
                                  uow: UnitOfWorkDep, state: AppStateDep,
                                  if_match: IfMatchDep, resolver: ResolverDep,
                                  response: Response) -> EndpointRead:
    """`active: false` disables the endpoint (`disabled_reason` "disabled through the
    API"), `active: true` enables it again."""
    endpoint = await webhooks.update_endpoint(
        uow, caller=caller, endpoint_id=endpoint_id, values=body.changes(),
        allow_private=state.settings.webhook_allow_private_networks, resolver=resolver,
        if_match=if_match)
    response.headers["ETag"] = etag(endpoint.version)
    return EndpointRead.of(endpoint)


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, tags=WEBHOOKS,
               responses=problem_responses(404, 412))
async def delete_webhook_endpoint(endpoint_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                  if_match: IfMatchDep) -> None:
    """Remove the endpoint and its delivery log; nothing more is sent to it."""
    await webhooks.delete_endpoint(uow, caller=caller, endpoint_id=endpoint_id,
                                   if_match=if_match)


@router.post(ONE + "/rotate-secret", response_model=EndpointWithSecret, tags=WEBHOOKS,
             responses=problem_responses(404, 412))
async def rotate_webhook_endpoint_secret(endpoint_id: Id, caller: CallerDep,
                                         uow: UnitOfWorkDep, state: AppStateDep,
                                         if_match: IfMatchDep,
                                         response: Response) -> EndpointWithSecret:
    """A new secret, in this answer only; messages are signed with the previous one too
    for 24 hours more."""
    endpoint, secret = await webhooks.rotate_secret(
        uow, caller=caller, endpoint_id=endpoint_id,
        key=state.settings.secrets_encryption_key(), if_match=if_match)
    return _with_secret(endpoint, secret, response)


@router.get(ONE + "/deliveries", response_model=PageOf[DeliveryRead], tags=WEBHOOKS,
            responses=problem_responses(404))
async def list_webhook_deliveries(endpoint_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                  state: AppStateDep, request: DeliveryList) -> Response:
    """The endpoint's delivery log: one delivery per event; `sort=-id` for the newest first."""
    page = await webhooks.list_deliveries(uow, caller=caller, endpoint_id=endpoint_id,
                                          query=request.query)
    return page_response(state, request, page, DeliveryRead.of)


@router.post(ONE + "/recover", response_model=RecoveryAnswer, tags=WEBHOOKS,
             status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(404, 409))
async def recover_webhook_deliveries(endpoint_id: Id, body: Recovery, caller: CallerDep,
                                     uow: UnitOfWorkDep) -> RecoveryAnswer:
    """Queue every event since `since` that the endpoint takes and that has no successful
    delivery to it: failed deliveries again, and events never queued for it (while it was
    inactive). 409 while it is inactive: enable it first."""
    queued = await webhooks.recover(uow, caller=caller, endpoint_id=endpoint_id,
                                    since=body.since)
    return RecoveryAnswer(queued=queued)


@router.get(DELIVERY + "/attempts", response_model=PageOf[AttemptRead], tags=WEBHOOKS,
            responses=problem_responses(404))
async def list_webhook_attempts(delivery_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                                state: AppStateDep, request: AttemptList) -> Response:
    """Every attempt at one delivery: when, the status code or error, how long it took
    and the start of the answer."""
    page = await webhooks.list_attempts(uow, caller=caller, delivery_id=delivery_id,
                                        query=request.query)
    return page_response(state, request, page, AttemptRead.of)


@router.post(DELIVERY + "/redeliver", response_model=DeliveryRead, tags=WEBHOOKS,
             status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(404, 409))
async def redeliver_webhook(delivery_id: Id, caller: CallerDep,
                            uow: UnitOfWorkDep) -> DeliveryRead:
    """Queue the delivery again, due now, whatever its status (its attempts so far and last
    error are kept). 409 while its endpoint is inactive."""
    delivery = await webhooks.redeliver(uow, caller=caller, delivery_id=delivery_id)
    return DeliveryRead.of(delivery)


@router.get("/event-types", response_model=EventTypeList, tags=["events"])
async def list_event_types(caller: CallerDep) -> EventTypeList:
    """Every type of event the change feed and webhooks carry, with what it means: the
    values webhook endpoints' `event_types` take."""
    return EventTypeList(data=[EventTypeRead(type=name, description=meaning)
                               for name, meaning in webhooks.event_types(caller=caller)])
