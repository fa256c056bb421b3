"""The statements of the win-loss and activity reports, over the opportunities and
activities as they are now."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    FromClause,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from salescore.domain.activities.activities import ActivityKind
from salescore.domain.reports.bounds import groups_to_ask
from salescore.domain.reports.pipeline import GroupKey
from salescore.repositories.access.models import departments, users
from salescore.repositories.activities.models import activities as a
from salescore.repositories.reports.fx import rate_on
from salescore.repositories.reports.history_sql import CLOSED
from salescore.repositories.sales.models import (
    campaigns,
    loss_reasons,
    opportunity_types,
    sales_processes,
    sources,
)
from salescore.repositories.sales.models import opportunities as o

_NAMES = {GroupKey.OWNER: users, GroupKey.DEPARTMENT: departments,
          GroupKey.SALES_PROCESS: sales_processes, GroupKey.SOURCE: sources,
          GroupKey.TYPE: opportunity_types, GroupKey.CAMPAIGN: campaigns}
_COLUMNS = {GroupKey.OWNER: "owner_id", GroupKey.SALES_PROCESS: "sales_process_id",
            GroupKey.SOURCE: "source_id", GroupKey.TYPE: "type_id",
            GroupKey.CAMPAIGN: "campaign_id"}
KINDS = tuple(ActivityKind)


def _name(organization_id: int, table: Any, ref: Any, label: str) -> Any:
    return select(table.c.name).where(table.c.organization_id == organization_id,
                                      table.c.id == ref).scalar_subquery().label(label)


def win_loss_statement(organization_id: int, *, base_currency: str, fx_date: date,
                       time_zone: str, starts: datetime | None, ends: datetime | None,
                       keys: Sequence[GroupKey]) -> Select[Any]:
    """Opportunities closed in [starts, ends) per key and status (`group` rows), per
    status (`total`), per loss reason (`reason`) in the base currency, and per currency
    without a rate and status (`unconverted`); with the days from created to closed.
    `group` rows stop at one row per status for each group the bound lets be counted
    (bounds.py): enough to tell that it is passed, as a group has one row per status."""
    owner = users.alias("owner")
    source: FromClause = o
    if GroupKey.DEPARTMENT in keys:
        source = o.join(owner, and_(owner.c.organization_id == o.c.organization_id,
                                    owner.c.id == o.c.owner_id))
    columns = [(owner.c.department_id if key is GroupKey.DEPARTMENT
                else o.c[_COLUMNS[key]]).label(key.value) for key in keys]

    def local(moment: Any) -> Any:
        return cast(func.timezone(time_zone, moment), Date)

    reason = case((o.c.status == "lost", o.c.loss_reason_id))
    stage_one = select(
        *columns, o.c.currency, o.c.status, reason.label("loss_reason"),
        func.count().label("n"), func.sum(o.c.amount).label("amount"),
        func.sum(local(o.c.closed_at) - local(o.c.created_at)).label("cycle_days"),
    ).select_from(source).where(
        o.c.organization_id == organization_id, o.c.status.in_(CLOSED),
        *([o.c.closed_at >= starts] if starts is not None else []),
        *([o.c.closed_at < ends] if ends is not None else []),
    ).group_by(*[c.element for c in columns], o.c.currency, o.c.status, reason).subquery()
    priced = select(stage_one, rate_on(organization_id, base_currency, stage_one.c.currency,
                                       fx_date).label("rate")).cte("priced")
    p = priced.c
    slots = [*(k.value for k in keys), "status", "loss_reason", "currency"]

    def part(name: str, by: Sequence[str], *conditions: Any, in_base: bool = True) -> Any:
        return select(
            literal_column(f"'{name}'").label("part"),
            *[(p[slot] if slot in by else cast(null(), p[slot].type)).label(slot)
              for slot in slots],
            func.sum(p.n).label("n"), func.sum(p.cycle_days).label("cycle_days"),
            func.sum(p.amount * p.rate if in_base else p.amount).label("amount"),
        ).where(p.rate.is_not(None) if in_base else p.rate.is_(None), *conditions).group_by(
            *[p[slot] for slot in by])

    parts = [part("total", ["status"]), part("reason", ["status", "loss_reason"],
                                             p.status == "lost"),
             part("unconverted", ["currency", "status"], in_base=False)]
    if keys:
        parts.append(part("group", [*(k.value for k in keys), "status"]).limit(
            len(CLOSED) * groups_to_ask()))
    u = union_all(*parts).subquery("u")
    names = [_name(organization_id, _NAMES[k], u.c[k.value], f"{k.value}_name") for k in keys]
    reason_name = _name(organization_id, loss_reasons, u.c.loss_reason, "loss_reason_name")
    n = select(u, *names, reason_name).subquery("named").c
    order = [c.asc().nulls_last() for k in keys for c in (n[f"{k.value}_name"], n[k.value])]
    return select(*n).order_by(n.part, *order, n.loss_reason_name.asc().nulls_last(),
                               n.loss_reason, n.currency)


def activity_statement(organization_id: int, *, starts: datetime | None,
                       ends: datetime | None, now: datetime) -> Select[Any]:
    """Per assignee: activities done in [starts, ends) and open now, by kind; follow-ups
    due before `now` and not done. Per owner: open opportunities. Every active user, and
    anyone else with a figure; unassigned activities under a NULL user."""
    done_now = and_(a.c.done, *([a.c.done_at >= starts] if starts is not None else []),
                    *([a.c.done_at < ends] if ends is not None else []))
    acts = select(
        a.c.assignee_id.label("user_id"),
        *[func.count().filter(done_now, a.c.kind == k.value).label(f"done_{k.value}")
          for k in KINDS],
        *[func.count().filter(~a.c.done, a.c.kind == k.value).label(f"open_{k.value}")
          for k in KINDS],
        func.count().filter(~a.c.done, a.c.origin == "follow_up", a.c.due_at < now).label(
            "overdue"),
    ).where(a.c.organization_id == organization_id, or_(~a.c.done, done_now)).group_by(
        a.c.assignee_id).subquery("acts")
    owned = select(o.c.owner_id, func.count().label("active")).where(
        o.c.organization_id == organization_id, o.c.status == "open").group_by(
        o.c.owner_id).subquery("owned")
    figures = [*[func.coalesce(acts.c[f"{w}_{k.value}"], 0).label(f"{w}_{k.value}")
                 for w in ("done", "open") for k in KINDS],
               func.coalesce(acts.c.overdue, 0).label("overdue")]
    people = select(users.c.id, users.c.name, *figures,
                    func.coalesce(owned.c.active, 0).label("active")).select_from(
        users.outerjoin(acts, acts.c.user_id == users.c.id).outerjoin(
            owned, owned.c.owner_id == users.c.id)).where(
        users.c.organization_id == organization_id,
        or_(users.c.active, acts.c.user_id.is_not(None), owned.c.owner_id.is_not(None)))
    nobody = select(null().label("id"), null().label("name"), *figures,
                    literal_column("0").label("active")).where(acts.c.user_id.is_(None))
    both = union_all(people, nobody).subquery("both")
    return select(both).order_by(both.c.id.is_(None), both.c.name, both.c.id)
