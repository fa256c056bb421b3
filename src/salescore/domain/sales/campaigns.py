"""Campaigns: the marketing efforts opportunities come from (DOMAIN.md §1)."""

from dataclasses import dataclass
from datetime import date, datetime

from salescore.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    organization_id: int
    name: str
    starts_on: date | None
    ends_on: date | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


def check_period(starts_on: date | None, ends_on: date | None) -> None:
    """A campaign cannot end before it starts; either end may be left open."""
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise InvalidInput.of("ends_on", "must be on or after starts_on")
