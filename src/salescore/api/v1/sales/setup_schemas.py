"""Request and response bodies of the configuration lists (opportunity types, sources, loss
reasons) and of campaigns."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from salescore.api.v1.schemas import DateIn, Flag, Id, Name, Patch, Strict
from salescore.domain.sales.campaigns import Campaign
from salescore.domain.sales.lists import ListItem

Position = Annotated[int, Field(ge=1, le=1_000_000, description=(
    "1 is first; the items from there on move down. Past the end means last."))]



class ListItemCreate(Strict):
    name: Name
    position: Position | None = Field(default=None, description="Default: after the last.")
    active: Flag = True


class ListItemUpdate(Patch):
    name: Name | None = None
    position: Position | None = None
    active: Flag | None = None


class ListItemRead(BaseModel):
    id: int
    name: str
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, item: ListItem) -> "ListItemRead":
        return cls(id=item.id, name=item.name, position=item.position, active=item.active,
                   created_at=item.created_at, updated_at=item.updated_at,
                   version=item.version)


class ListOrder(Strict):
    ids: list[Id] = Field(description="Every item of the list, exactly once, in the new "
                                      "order.")


class ListItemsRead(BaseModel):
    data: list[ListItemRead]


class CampaignCreate(Strict):
    name: Name
    starts_on: DateIn | None = None
    ends_on: DateIn | None = Field(default=None, description="On or after `starts_on`.")
    active: Flag = True


class CampaignUpdate(Patch):
    NULLABLE = frozenset({"starts_on", "ends_on"})

    name: Name | None = None
    starts_on: DateIn | None = None
    ends_on: DateIn | None = None
    active: Flag | None = None


class CampaignRead(BaseModel):
    id: int
    name: str
    starts_on: date | None
    ends_on: date | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, campaign: Campaign) -> "CampaignRead":
        return cls(id=campaign.id, name=campaign.name, starts_on=campaign.starts_on,
                   ends_on=campaign.ends_on, active=campaign.active,
                   created_at=campaign.created_at, updated_at=campaign.updated_at,
                   version=campaign.version)
