"""Typed table models. The schema itself is made by the Alembic migrations in `migrations/`;
these classes describe it for queries. Tenant tables key on (`organization_id`, `id`)."""

from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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


class OrganizationRow(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    base_currency: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(Text)
    loss_reason_required: Mapped[bool]
    reminder_task_enabled: Mapped[bool]
    reminder_task_days: Mapped[int]
    stagnant_days: Mapped[int]
    created_at: Mapped[datetime]


class UserRow(Base):
    __tablename__ = "users"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    initials: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None]
    sales_region_id: Mapped[int | None]
    active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class UserSalesGroupRow(Base):
    __tablename__ = "user_sales_groups"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    sales_group_id: Mapped[int] = mapped_column(primary_key=True)


class _OrgUnitColumns:
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class DepartmentRow(_OrgUnitColumns, Base):
    __tablename__ = "departments"


class SalesRegionRow(_OrgUnitColumns, Base):
    __tablename__ = "sales_regions"


class SalesGroupRow(_OrgUnitColumns, Base):
    __tablename__ = "sales_groups"
    group_type: Mapped[str] = mapped_column(Text)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    revoked_at: Mapped[datetime | None]


class EventRow(Base):
    """The append-only event log. `xact_id` is the writing transaction (`xid8`), kept so the
    change feed can hold back events of transactions that may still commit below it."""

    __tablename__ = "events"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[int] = identity_key()
    xact_id: Mapped[str] = mapped_column(Text, server_default="pg_current_xact_id()")
    aggregate_type: Mapped[str] = mapped_column(Text)
    aggregate_id: Mapped[int]
    type: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    actor: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]


class EventRetentionRow(Base):
    __tablename__ = "event_retention"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    pruned_through_xact: Mapped[str] = mapped_column(Text)
    pruned_through_id: Mapped[int]


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    status_code: Mapped[int | None]
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    locked_until: Mapped[datetime]


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


organizations = table_of(OrganizationRow)
users = table_of(UserRow)
user_sales_groups = table_of(UserSalesGroupRow)
departments = table_of(DepartmentRow)
sales_regions = table_of(SalesRegionRow)
sales_groups = table_of(SalesGroupRow)
api_keys = table_of(ApiKeyRow)
events = table_of(EventRow)
event_retention = table_of(EventRetentionRow)
idempotency_keys = table_of(IdempotencyKeyRow)
