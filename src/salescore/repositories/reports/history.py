"""The win-loss, funnel, stage-calibration, activity, pipeline-as-of and pipeline-movement
reports: each one SQL statement aggregated by PostgreSQL (the movement asks for its rates
first); rows here are groups, never opportunities. The statements are in
report_history_sql.py and report_movement_sql.py (over the history) and
report_outcomes_sql.py (over the opportunities and activities as they are now)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import Condition
from salescore.domain.reports.bounds import groups_to_ask
from salescore.domain.reports.history import (
    CalibrationStage,
    CloseWindow,
    FunnelStage,
    LossReasonFigures,
    Movement,
    MovementLine,
    Outcome,
    SellerActivity,
    UnconvertedMovement,
    UnconvertedOutcomes,
    WinLossFigures,
    WinLossGroup,
    win_loss_figures,
)
from salescore.domain.reports.pipeline import (
    Figures,
    GroupKey,
    KeyValue,
    Named,
    Report,
    cents,
    percent,
    two_places,
)
from salescore.repositories.reports.grouping import converted, read
from salescore.repositories.reports.history_sql import (
    as_of_stage_one,
    calibration_statement,
    funnel_statement,
)
from salescore.repositories.reports.movement_sql import (
    Money,
    movement_statement,
    rates_statement,
)
from salescore.repositories.reports.outcomes_sql import (
    KINDS,
    activity_statement,
    win_loss_statement,
)


def _named(key_id: int | None, name: str | None) -> Named | None:
    return None if key_id is None else Named(key_id, name or "")


class ReportHistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _run(self, statement: Select[Any]) -> Sequence[Any]:
        """The rows of a report statement, planned for its own instants: a prepared
        statement's generic plan, made without knowing whether a period is a day or a
        year, can be many times slower (a year's movement: 10 s instead of 3 s)."""
        await self._session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        rows: Sequence[Any] = (await self._session.execute(statement)).all()
        return rows

    async def win_loss(self, organization_id: int, *, base_currency: str, fx_date: date,
                       time_zone: str, starts: datetime | None, ends: datetime | None,
                       keys: Sequence[GroupKey]) -> tuple[
            list[WinLossGroup], WinLossFigures, list[LossReasonFigures], list[UnconvertedOutcomes]]:
        """Groups in key order, total figures, lost by reason, unconverted currencies."""
        rows = await self._run(win_loss_statement(
            organization_id, base_currency=base_currency, fx_date=fx_date,
            time_zone=time_zone, starts=starts, ends=ends, keys=keys))
        exact: dict[tuple[str, Any], dict[str, tuple[int, Decimal, int]]] = defaultdict(dict)
        groups: dict[Any, dict[GroupKey, KeyValue]] = {}
        reasons = []
        for row in (r._mapping for r in rows):
            figures = (int(row["n"]), Decimal(row["amount"] or 0), int(row["cycle_days"] or 0))
            if row["part"] == "reason":
                reasons.append(LossReasonFigures(
                    _named(row["loss_reason"], row["loss_reason_name"]), figures[0],
                    cents(figures[1])))
                continue
            ident = tuple(row[k.value] for k in keys) if row["part"] == "group" else (
                row["currency"])
            exact[(row["part"], ident)][row["status"]] = figures
            if row["part"] == "group":
                groups.setdefault(ident, {k: _named(row[k.value], row[f"{k.value}_name"])
                                          for k in keys})
        return ([WinLossGroup(key, win_loss_figures(exact[("group", ident)]))
                 for ident, key in groups.items()],
                win_loss_figures(exact.get(("total", None), {})), reasons,
                [UnconvertedOutcomes(ident, win_loss_figures(found))
                 for (part, ident), found in exact.items() if part == "unconverted"])

    async def activity(self, organization_id: int, *, starts: datetime | None,
                       ends: datetime | None, now: datetime) -> list[SellerActivity]:
        rows = await self._run(activity_statement(
            organization_id, starts=starts, ends=ends, now=now))
        return [SellerActivity(
            seller=_named(row["id"], row["name"]),
            done={k.value: row[f"done_{k.value}"] for k in KINDS},
            open={k.value: row[f"open_{k.value}"] for k in KINDS},
            overdue_follow_ups=row["overdue"], active_opportunities=row["active"],
        ) for row in (r._mapping for r in rows)]

    async def pipeline_as_of(self, organization_id: int, *, base_currency: str,
                             fx_date: date, moment: datetime, keys: Sequence[GroupKey],
                             conditions: Sequence[Condition]) -> Report[Figures]:
        """The open pipeline as the history held it at `moment`, shaped and priced as the
        live pipeline report is (report_grouping.py)."""
        stage_one = as_of_stage_one(organization_id, moment, keys, conditions)
        stmt = converted(organization_id, base_currency, fx_date, keys, stage_one, Figures,
                         totals_from_groups=GroupKey.SELLER not in keys,
                         group_limit=groups_to_ask())
        rows = await self._run(stmt)
        return read(rows, kind=Figures, keys=keys, currency=base_currency, fx_date=fx_date)

    async def movement(self, organization_id: int, *, base_currency: str, fx_date: date,
                       opening_at: datetime, closing_at: datetime, window: CloseWindow,
                       ) -> tuple[Outcome, list[MovementLine], Outcome,
                                  list[UnconvertedMovement]]:
        """Opening, the lines in waterfall order, closing, and the unconverted currencies."""
        rates = (await self._session.execute(rates_statement(
            organization_id, base_currency, fx_date))).all()
        money = Money(base_currency, {r.currency: r.rate for r in rates})
        rows = await self._run(movement_statement(
            organization_id, money=money, opening_at=opening_at, closing_at=closing_at,
            window=window))
        found = [r._mapping for r in rows]
        main = next((r for r in found if r["unconverted"] is None), None)

        def outcome(line: str) -> Outcome:
            if main is None:
                return Outcome(0, cents(None))
            return Outcome(main[f"{line}_count"], cents(main[f"{line}_amount"]))

        lines = [MovementLine(m, *_fields(outcome(m.value))) for m in Movement]
        return (outcome("opening"), lines, outcome("closing"), [
            UnconvertedMovement(r["unconverted"], r["count"], cents(r["opening_raw"]),
                                cents(r["closing_raw"]))
            for r in found if r["unconverted"] is not None])

    async def funnel(self, organization_id: int, process_id: int, *,
                     starts: datetime | None, ends: datetime | None,
                     now: datetime) -> list[FunnelStage]:
        rows = await self._run(funnel_statement(
            organization_id, process_id, starts=starts, ends=ends, now=now))
        stages = []
        for row in (r._mapping for r in rows):
            entered, is_open = row["entered"] or 0, row["kind"] == "open"
            stages.append(FunnelStage(
                stage=Named(row["id"], row["name"]), position=row["position"],
                kind=row["kind"], entered=entered, moved_on=row["moved_on"] or 0,
                won=row["won"] or 0,
                conversion_to_next=percent(row["moved_on"] or 0, entered) if is_open
                else None,
                conversion_to_won=percent(row["won"] or 0, entered),
                stays=row["stays"] or 0, still_in_stage=row["still_in_stage"] or 0,
                median_days=two_places(row["median_days"]),
                mean_days=two_places(row["mean_days"])))
        return stages

    async def calibration(self, organization_id: int,
                          process_id: int) -> list[CalibrationStage]:
        rows = await self._run(calibration_statement(organization_id, process_id))
        return [CalibrationStage(
            stage=Named(row["id"], row["name"]), position=row["position"], kind=row["kind"],
            configured_probability=row["probability"], entered=row["entered"] or 0,
            won=row["won"] or 0, lost=row["lost"] or 0,
            sample_size=(row["won"] or 0) + (row["lost"] or 0),
            observed_probability=percent(row["won"] or 0,
                                         (row["won"] or 0) + (row["lost"] or 0)),
        ) for row in (r._mapping for r in rows)]


def _fields(outcome: Outcome) -> tuple[int, Decimal]:
    return outcome.count, outcome.amount

