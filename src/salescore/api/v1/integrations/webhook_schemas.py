"""Request and response bodies of webhook endpoints, their delivery log and the event types."""

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1.schemas import Flag, NoNul, Patch, Strict, TimeIn
from salescore.domain.integrations.webhooks import (
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
)

Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH), NoNul,
                Field(description="Where messages are POSTed: an absolute https:// URL "
                                  "(http:// and private addresses only where the server "
                                  "allows private networks).",
                      examples=["https://erp.example.com/hooks/salescore"])]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH), NoNul]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
EventTypes = Annotated[list[EventType], Field(
    max_length=500, description="Types from GET /v1/event-types; empty: every type. "
                                "Repeats are dropped.")]


class EndpointCreate(Strict):
    url: Url
    description: Description | None = None
    event_types: EventTypes = Field(default_factory=list)
    active: Flag = True


class EndpointUpdate(Patch):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"description"})

    url: Url | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    active: Flag | None = Field(default=None, description=(
        "false disables the endpoint (its pending deliveries end failed); true enables it "
        "again and clears disabled_at and disabled_reason."))


class EndpointRead(BaseModel):
    id: int
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, endpoint: Endpoint) -> "EndpointRead":
        return cls(id=endpoint.id, url=endpoint.url, description=endpoint.description,
                   event_types=list(endpoint.event_types), active=endpoint.active,
                   disabled_at=endpoint.disabled_at, disabled_reason=endpoint.disabled_reason,
                   created_at=endpoint.created_at, updated_at=endpoint.updated_at,
                   version=endpoint.version)


class EndpointWithSecret(EndpointRead):
    secret: str = Field(description="`whsec_…`, shown in this answer only: it is kept "
                                    "encrypted.")


class DeliveryRead(BaseModel):
    id: int
    endpoint_id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    succeeded_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> "DeliveryRead":
        return cls(id=delivery.id, endpoint_id=delivery.endpoint_id,
                   event_id=delivery.event_id, event_type=delivery.event_type,
                   status=delivery.status, attempt_count=delivery.attempt_count,
                   next_attempt_at=delivery.next_attempt_at,
                   last_status_code=delivery.last_status_code, last_error=delivery.last_error,
                   created_at=delivery.created_at, succeeded_at=delivery.succeeded_at)


class AttemptRead(BaseModel):
    id: int
    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> "AttemptRead":
        return cls(id=attempt.id, delivery_id=attempt.delivery_id,
                   attempted_at=attempt.attempted_at, status_code=attempt.status_code,
                   duration_ms=attempt.duration_ms, error=attempt.error,
                   response_excerpt=attempt.response_excerpt)


class Recovery(Strict):
    since: TimeIn = Field(description="Queue again every event that occurred at this time "
                                      "or later (RFC 3339 with an offset).")


class RecoveryAnswer(BaseModel):
    queued: int = Field(description="Deliveries queued: failed ones again, and events never "
                                    "queued for the endpoint.")


class EventTypeRead(BaseModel):
    type: str
    description: str


class EventTypeList(BaseModel):
    data: list[EventTypeRead]
