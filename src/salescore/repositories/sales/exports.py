"""What an export of opportunities reads: the list's fields in its order, each reference
followed by the name of what it refers to, and the sellers as text."""

from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, Text, case, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by

from salescore.domain.listing import ListQuery
from salescore.repositories.access.models import users
from salescore.repositories.customers.models import contacts, customers
from salescore.repositories.exports import (
    ExportQuery,
    export_query,
    picked_by,
    shown_with_names,
    with_names,
)
from salescore.repositories.sales.models import (
    Money,
    campaigns,
    loss_reasons,
    opportunity_sellers,
    opportunity_types,
    sales_processes,
    sources,
    stages,
)
from salescore.repositories.sales.models import opportunities as o
from salescore.repositories.sales.opportunities import LIST_COLUMNS, list_filters

_REFERRED, _NAMES = with_names(o, [
    ("customer", customers, o.c.customer_id), ("contact", contacts, o.c.contact_id),
    ("owner", users, o.c.owner_id), ("sales_process", sales_processes, o.c.sales_process_id),
    ("stage", stages, o.c.stage_id), ("type", opportunity_types, o.c.type_id),
    ("source", sources, o.c.source_id), ("campaign", campaigns, o.c.campaign_id),
    ("loss_reason", loss_reasons, o.c.loss_reason_id)])
_SEPARATOR = "; "


def _sellers(organization_id: int, picked: Select[Any]) -> Subquery:
    """The sellers of the opportunities `picked` (a select of ids), earliest added first,
    as `user_id:share; ...` and their names, by opportunity: one pass over those sellers,
    grouped, rather than a look at each opportunity's own (ten times as long for a
    million)."""
    s, u = opportunity_sellers, users.alias("seller")
    in_order = aggregate_order_by(literal(_SEPARATOR), s.c.added_seq)
    return select(
        s.c.opportunity_id,
        func.string_agg(sql_cast(s.c.user_id, Text) + ":" + sql_cast(s.c.share, Text),
                        in_order).label("sellers"),
        func.string_agg(u.c.name, in_order).label("seller_names"),
    ).join_from(s, u, (u.c.organization_id == s.c.organization_id)
                & (u.c.id == s.c.user_id)).where(
        s.c.organization_id == organization_id, s.c.opportunity_id.in_(picked),
    ).group_by(s.c.opportunity_id).subquery("sellers")


def _margin_percent() -> ColumnElement[Any]:
    """domain/sales/opportunities.margin_percent in SQL, for COPY: the margin as a
    percentage of the amount, two decimals half-even; none without a margin or with a
    zero amount."""
    return case((o.c.amount != 0, func.round(
        func.half_even_cents(o.c.margin_amount * 100 / o.c.amount), 2, type_=Money)))


_FIELDS = ("id", "name", "description", "customer_id", "contact_id", "owner_id",
           "sales_process_id", "stage_id", "status", "type_id", "source_id", "campaign_id",
           "amount", "currency", "probability", "probability_source", "weighted_amount",
           "margin_amount", "margin_percent", "amount_source", "discount_percent",
           "lines_total", "ordered_amount", "expected_close_date", "follow_up_date",
           "previous_follow_up_date", "loss_reason_id", "loss_note", "closed_at",
           "project_ref", "external_id", "sellers", "created_at", "created_by",
           "updated_at", "updated_by", "version")
"""The fields of the list (api/v1/sales/opportunity_schemas.OpportunityRead), in its
order; a test holds the two together."""


def opportunity_export(organization_id: int, query: ListQuery) -> ExportQuery:
    """Every opportunity of the organization that the list `query` picks, in its order."""
    found, rest = list_filters(organization_id, query)
    picked = picked_by(select(o.c.id).where(o.c.organization_id == organization_id, *found),
                       rest, LIST_COLUMNS)
    sellers = _sellers(organization_id, picked)
    shown = shown_with_names(o, _FIELDS, _NAMES, made={
        "margin_percent": [("margin_percent", _margin_percent())],
        "sellers": [("sellers", sellers.c.sellers), ("seller_names", sellers.c.seller_names)]})
    return export_query(picked, rest, LIST_COLUMNS, o.c.id, shown=shown, source=_REFERRED
                        .outerjoin(sellers, sellers.c.opportunity_id == o.c.id))
