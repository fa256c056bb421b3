"""What a list request asks for, independent of HTTP and SQL: conditions that all hold
(AND), one sort field with the id as tie-breaker, and a keyset position to continue after."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from salescore.domain.patterns import TextPattern

T = TypeVar("T")
Value = int | str | bool | Decimal | date | datetime | TextPattern | None


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GTE = "gte"
    LTE = "lte"


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class Sort:
    field: str = "id"
    descending: bool = False

    @classmethod
    def parse(cls, raw: str) -> "Sort":
        """`name` sorts ascending, `-name` descending."""
        return cls(raw.removeprefix("-"), raw.startswith("-"))


@dataclass(frozen=True, slots=True)
class Position:
    """The last row a page showed: its sort value and its id."""

    value: Value
    id: int


@dataclass(frozen=True, slots=True)
class ListQuery:
    conditions: tuple[Condition, ...] = ()
    sort: Sort = Sort()
    limit: int = 50
    after: Position | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: Position | None
