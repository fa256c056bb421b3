"""Bodies of the change feed."""

from datetime import datetime

from pydantic import BaseModel, Field

from salescore.api.v1 import examples


class EventRead(BaseModel):
    model_config = examples.shown("EventRead")

    id: int
    type: str
    aggregate_type: str
    aggregate_id: int
    occurred_at: datetime
    actor: dict[str, int | str]
    data: dict[str, object]


class EventPage(BaseModel):
    data: list[EventRead]
    next_cursor: str = Field(description="Pass as `after` to read on; always given, so a "
                                         "reader can poll from where it stopped.")
    has_more: bool
