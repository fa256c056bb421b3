"""Typed table models of the opportunities core (migrations 0002, 0005 and 0008):
configuration lists, campaigns, sales processes, stages, opportunities, their sellers,
product lines and orders, and their history."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Computed, Numeric, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of, tenant_key

Money = Numeric(18, 2)
Percent = Numeric(5, 2)


class _ListItemColumns:
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    position: Mapped[int]
    active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class OpportunityTypeRow(_ListItemColumns, Base):
    __tablename__ = "opportunity_types"


class SourceRow(_ListItemColumns, Base):
    __tablename__ = "sources"


class LossReasonRow(_ListItemColumns, Base):
    __tablename__ = "loss_reasons"


class CampaignRow(Base):
    __tablename__ = "campaigns"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class SalesProcessRow(Base):
    __tablename__ = "sales_processes"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    active: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)
    default_for_all: Mapped[bool]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class StageRow(Base):
    __tablename__ = "stages"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[int] = identity_key()
    sales_process_id: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    position: Mapped[int]
    probability: Mapped[Decimal] = mapped_column(Percent)
    kind: Mapped[str] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(Text)
    marks_quote_signed: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OpportunityRow(Base):
    __tablename__ = "opportunities"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int]
    contact_id: Mapped[int | None]
    owner_id: Mapped[int]
    sales_process_id: Mapped[int]
    stage_id: Mapped[int]
    last_open_stage_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(Text)
    type_id: Mapped[int | None]
    source_id: Mapped[int | None]
    campaign_id: Mapped[int | None]
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(Text)
    probability: Mapped[Decimal] = mapped_column(Percent)
    probability_source: Mapped[str] = mapped_column(Text)
    weighted_amount: Mapped[Decimal] = mapped_column(
        Money, Computed("half_even_cents(amount * probability * 0.01)"))
    margin_amount: Mapped[Decimal | None] = mapped_column(Money)
    expected_close_date: Mapped[date | None]
    follow_up_date: Mapped[date | None]
    previous_follow_up_date: Mapped[date | None]
    loss_reason_id: Mapped[int | None]
    loss_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    project_ref: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    amount_source: Mapped[str] = mapped_column(Text)
    discount_percent: Mapped[Decimal] = mapped_column(Percent)
    lines_total: Mapped[Decimal] = mapped_column(Money)
    ordered_amount: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class OpportunityLineRow(Base):
    __tablename__ = "opportunity_lines"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[int] = identity_key()
    opportunity_id: Mapped[int]
    product_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Percent)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    position: Mapped[int]
    line_total: Mapped[Decimal] = mapped_column(Money)
    line_cost: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]


class OrderRow(Base):
    """An order an ERP made from an opportunity, linked back by (`system`, `order_number`)."""

    __tablename__ = "orders"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    opportunity_id: Mapped[int]
    system: Mapped[str] = mapped_column(Text)
    order_number: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    ordered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class OpportunitySellerRow(Base):
    __tablename__ = "opportunity_sellers"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    share: Mapped[Decimal] = mapped_column(Percent)
    added_seq: Mapped[int]


class OpportunityHistoryRow(Base):
    """An opportunity's forecast-relevant state from `valid_from` until `valid_to` (open:
    current), kept by a trigger on `opportunities` (migration 0002)."""

    __tablename__ = "opportunity_history"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    opportunity_id: Mapped[int]
    version: Mapped[int]
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(Text)
    sales_process_id: Mapped[int]
    stage_id: Mapped[int]
    owner_id: Mapped[int]
    customer_id: Mapped[int]
    campaign_id: Mapped[int | None]
    source_id: Mapped[int | None]
    type_id: Mapped[int | None]
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(Text)
    probability: Mapped[Decimal] = mapped_column(Percent)
    weighted_amount: Mapped[Decimal] = mapped_column(Money)
    expected_close_date: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    loss_reason_id: Mapped[int | None]
    created_at: Mapped[datetime]


class OpportunitySellerHistoryRow(Base):
    """A seller's share of an opportunity from `valid_from` until `valid_to` (open:
    current), kept by a trigger on `opportunity_sellers` (migration 0005)."""

    __tablename__ = "opportunity_seller_history"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    opportunity_id: Mapped[int]
    user_id: Mapped[int]
    share: Mapped[Decimal] = mapped_column(Percent)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]


opportunity_types = table_of(OpportunityTypeRow)
sources = table_of(SourceRow)
loss_reasons = table_of(LossReasonRow)
campaigns = table_of(CampaignRow)
sales_processes = table_of(SalesProcessRow)
stages = table_of(StageRow)
opportunities = table_of(OpportunityRow)
opportunity_sellers = table_of(OpportunitySellerRow)
opportunity_lines = table_of(OpportunityLineRow)
orders = table_of(OrderRow)
opportunity_history = table_of(OpportunityHistoryRow)
opportunity_seller_history = table_of(OpportunitySellerHistoryRow)

# Whom a process is the default for: one row per target, exactly one of user, department,
# region set. It has no key of its own, so it is a plain table rather than a mapped class.
sales_process_defaults = Table(
    "sales_process_defaults", Base.metadata,
    *(Column(name, BigInteger, nullable=name in {"user_id", "department_id", "sales_region_id"})
      for name in ("organization_id", "sales_process_id", "user_id", "department_id",
                   "sales_region_id")),
)


