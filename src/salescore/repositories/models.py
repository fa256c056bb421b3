"""Typed table models. The schema itself is made by the Alembic migrations in `migrations/`;
these classes describe it for queries. Tenant tables key on (`organization_id`, `id`)."""

from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    MetaData,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        int: BigInteger, dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


def tenant_key() -> Mapped[int]:
    return mapped_column(ForeignKey("organizations.id"), primary_key=True)


def identity_key() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=True), primary_key=True)


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


