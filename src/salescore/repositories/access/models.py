"""Typed table models of organizations, users, departments, sales regions, sales groups
and API keys (migration 0001)."""

from datetime import datetime

from sqlalchemy import BigInteger, Identity, LargeBinary, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of, tenant_key


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


organizations = table_of(OrganizationRow)
users = table_of(UserRow)
user_sales_groups = table_of(UserSalesGroupRow)
departments = table_of(DepartmentRow)
sales_regions = table_of(SalesRegionRow)
sales_groups = table_of(SalesGroupRow)
api_keys = table_of(ApiKeyRow)
