"""Bodies of the win-loss, funnel, stage-calibration, activity and pipeline-movement
reports. Money, percentages and days are strings with two decimals."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from salescore.api.v1.reports.schemas import KeyRead, NamedRead
from salescore.api.v1.schemas import Decimal2
from salescore.domain.reports.history import (
    ActivityReport,
    CalibrationStage,
    FunnelReport,
    Movement,
    MovementReport,
    Outcome,
    WinLossFigures,
    WinLossReport,
)
from salescore.domain.reports.pipeline import GroupKey, KeyValue, Named


def _named(value: Named | None) -> NamedRead | None:
    return None if value is None else NamedRead(id=value.id, name=value.name)


def _key(key: dict[GroupKey, KeyValue]) -> KeyRead:
    return {k.value: _named(v) if isinstance(v, Named) else v for k, v in key.items()}


class _Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date | None = Field(alias="from")
    to: date | None


class OutcomeRead(BaseModel):
    count: int
    amount: Decimal2

    @classmethod
    def of(cls, outcome: Outcome) -> "OutcomeRead":
        return cls(count=outcome.count, amount=outcome.amount)


class WinLossFiguresRead(BaseModel):
    won: OutcomeRead
    lost: OutcomeRead
    expired: OutcomeRead
    win_rate: Decimal2 | None = Field(description="won / (won + lost) in percent; null when "
                                                  "none was won or lost.")
    average_won_amount: Decimal2 | None
    average_sales_cycle_days: Decimal2 | None = Field(description=(
        "Mean days from the day created to the day won (organization's time zone)."))

    @staticmethod
    def fields_of(figures: WinLossFigures) -> dict[str, Any]:
        return {"won": OutcomeRead.of(figures.won), "lost": OutcomeRead.of(figures.lost),
                "expired": OutcomeRead.of(figures.expired), "win_rate": figures.win_rate,
                "average_won_amount": figures.average_won_amount,
                "average_sales_cycle_days": figures.average_sales_cycle_days}


class WinLossGroupRead(WinLossFiguresRead):
    key: KeyRead


class LossReasonRead(BaseModel):
    loss_reason: NamedRead | None = Field(description="null: lost without a reason.")
    count: int
    amount: Decimal2


class WinLossUnconvertedRead(WinLossFiguresRead):
    currency: str


class WinLossReportRead(_Period):
    currency: str = Field(description="The organization's base currency.")
    fx_date: date
    group_by: list[GroupKey]
    groups: list[WinLossGroupRead]
    total: WinLossFiguresRead
    lost_by_reason: list[LossReasonRead]
    unconverted: list[WinLossUnconvertedRead] = Field(description=(
        "Opportunities in a currency without a rate on `fx_date`, in that currency; left "
        "out of groups, total and reasons."))

    @classmethod
    def of(cls, report: WinLossReport) -> "WinLossReportRead":
        return cls(
            currency=report.currency, fx_date=report.fx_date, from_=report.start,
            to=report.end, group_by=list(report.group_by),
            groups=[WinLossGroupRead(key=_key(g.key), **WinLossFiguresRead.fields_of(
                g.figures)) for g in report.groups],
            total=WinLossFiguresRead(**WinLossFiguresRead.fields_of(
                report.total)),
            lost_by_reason=[LossReasonRead(loss_reason=_named(r.loss_reason), count=r.count,
                                           amount=r.amount) for r in report.lost_by_reason],
            unconverted=[WinLossUnconvertedRead(
                currency=u.currency, **WinLossFiguresRead.fields_of(
                    u.figures)) for u in report.unconverted])


class FunnelStageRead(BaseModel):
    stage: NamedRead
    position: int
    kind: str
    entered: int = Field(description="Opportunities that entered the stage in the period.")
    moved_on: int = Field(description="Of those, how many later entered an open or won "
                                      "stage positioned after it.")
    won: int = Field(description="Of those, how many were won after entering it.")
    conversion_to_next: Decimal2 | None = Field(description="moved_on / entered in percent "
                                                            "(open stages).")
    conversion_to_won: Decimal2 | None = Field(description="won / entered in percent.")
    stays: int = Field(description="Stays in the stage that began in the period.")
    still_in_stage: int = Field(description="Of the stays, those not over yet: counted up "
                                            "to `measured_at`.")
    median_days: Decimal2 | None
    mean_days: Decimal2 | None


class FunnelReportRead(_Period):
    sales_process: NamedRead
    measured_at: datetime = Field(description="Stays still going are counted up to this.")
    stages: list[FunnelStageRead]

    @classmethod
    def of(cls, report: FunnelReport) -> "FunnelReportRead":
        return cls(
            sales_process=NamedRead(id=report.sales_process.id,
                                    name=report.sales_process.name),
            from_=report.start, to=report.end, measured_at=report.measured_at,
            stages=[FunnelStageRead(stage=NamedRead(id=s.stage.id, name=s.stage.name),
                                    **{name: getattr(s, name) for name in FunnelStageRead
                                       .model_fields if name != "stage"})
                    for s in report.stages])


class CalibrationStageRead(BaseModel):
    stage: NamedRead
    position: int
    kind: str
    configured_probability: Decimal2
    entered: int = Field(description="Opportunities that were ever in the stage.")
    won: int
    lost: int
    sample_size: int = Field(description="won + lost: those of them closed as won or lost.")
    observed_probability: Decimal2 | None = Field(description="won / sample_size in "
                                                              "percent; null of no sample.")

    @classmethod
    def of(cls, stage: CalibrationStage) -> "CalibrationStageRead":
        return cls(stage=NamedRead(id=stage.stage.id, name=stage.stage.name),
                   **{name: getattr(stage, name) for name in cls.model_fields
                      if name != "stage"})


class CalibrationReportRead(BaseModel):
    sales_process: NamedRead
    stages: list[CalibrationStageRead]


class SellerActivityRead(BaseModel):
    seller: NamedRead | None = Field(description="null: activities without an assignee.")
    done: dict[str, int] = Field(description="Done in the period, by kind.")
    open: dict[str, int] = Field(description="Not done now, by kind.")
    overdue_follow_ups: int = Field(description="Follow-up tasks not done, due before now.")
    active_opportunities: int = Field(description="Open opportunities owned now.")


class ActivityReportRead(_Period):
    measured_at: datetime
    sellers: list[SellerActivityRead]

    @classmethod
    def of(cls, report: ActivityReport) -> "ActivityReportRead":
        return cls(from_=report.start, to=report.end, measured_at=report.measured_at,
                   sellers=[SellerActivityRead(
                       seller=_named(s.seller), done=s.done, open=s.open,
                       overdue_follow_ups=s.overdue_follow_ups,
                       active_opportunities=s.active_opportunities) for s in report.sellers])


class MovementLineRead(BaseModel):
    line: Movement
    direction: Literal["in", "out"] = Field(description="`in` adds to the pipeline, `out` "
                                                        "takes from it.")
    count: int
    amount: Decimal2


class MovementUnconvertedRead(BaseModel):
    currency: str
    count: int
    opening_amount: Decimal2
    closing_amount: Decimal2


class MovementReportRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    currency: str = Field(description="The organization's base currency.")
    fx_date: date
    from_: date = Field(alias="from")
    to: date
    close_from: date | None
    close_to: date | None
    opening: OutcomeRead = Field(description="The pipeline at the end of `from`.")
    lines: list[MovementLineRead]
    closing: OutcomeRead = Field(description="The pipeline at the end of `to`: opening "
                                             "plus the `in` lines minus the `out` lines.")
    unconverted: list[MovementUnconvertedRead]

    @classmethod
    def of(cls, report: MovementReport) -> "MovementReportRead":
        return cls(
            currency=report.currency, fx_date=report.fx_date, from_=report.start,
            to=report.end, close_from=report.window.first, close_to=report.window.last,
            opening=OutcomeRead.of(report.opening), closing=OutcomeRead.of(report.closing),
            lines=[MovementLineRead(line=m.line, direction="in" if m.sign > 0 else "out",
                                    count=m.count, amount=m.amount) for m in report.lines],
            unconverted=[MovementUnconvertedRead(
                currency=u.currency, count=u.count, opening_amount=u.opening_amount,
                closing_amount=u.closing_amount) for u in report.unconverted])
