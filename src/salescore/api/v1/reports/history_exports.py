"""The win-loss, funnel, stage-calibration, activity and pipeline-movement reports as an
export table (api/exports.py renders it as CSV or xlsx): one row per group, stage, seller
or line, figures as in the JSON."""

from salescore.api.exports import Cell, Table
from salescore.domain.reports.history import (
    ActivityReport,
    CalibrationStage,
    FunnelReport,
    MovementReport,
    WinLossFigures,
    WinLossReport,
)
from salescore.domain.reports.pipeline import PERIODS, GroupKey, KeyValue, Named

_OUTCOMES = ("won", "lost", "expired")
_WIN_LOSS = (*(f"{o}_{m}" for o in _OUTCOMES for m in ("count", "amount")), "win_rate",
             "average_won_amount", "average_sales_cycle_days")


def _key_cells(keys: tuple[GroupKey, ...], key: dict[GroupKey, KeyValue] | None) -> list[Cell]:
    cells: list[Cell] = []
    for k in keys:
        value = None if key is None else key.get(k)
        if k in PERIODS:
            cells.append(value if isinstance(value, str) else None)
        else:
            cells += [value.id, value.name] if isinstance(value, Named) else [None, None]
    return cells


def _outcomes(figures: WinLossFigures) -> list[Cell]:
    return [figures.won.count, figures.won.amount, figures.lost.count, figures.lost.amount,
            figures.expired.count, figures.expired.amount, figures.win_rate,
            figures.average_won_amount, figures.average_sales_cycle_days]


def win_loss_table(report: WinLossReport) -> Table:
    """Groups, the total, the unconverted currencies, then the total lost by reason."""
    keys = report.group_by
    key_columns = [c for k in keys for c in ([k.value] if k in PERIODS
                                             else [f"{k.value}_id", k.value])]
    blank = [None] * len(key_columns)
    rows: list[list[Cell]] = [
        ["group", *_key_cells(keys, g.key), report.currency, None, None, *_outcomes(g.figures)]
        for g in report.groups]
    rows.append(["total", *blank, report.currency, None, None, *_outcomes(report.total)])
    rows += [["unconverted", *blank, u.currency, None, None, *_outcomes(u.figures)]
             for u in report.unconverted]
    for reason in report.lost_by_reason:
        named = reason.loss_reason
        rows.append(["lost_by_reason", *blank, report.currency,
                     named.id if named else None, named.name if named else None,
                     None, None, reason.count, reason.amount, *[None] * 5])
    return Table("Win-loss", ["row", *key_columns, "currency", "loss_reason_id",
                              "loss_reason", *_WIN_LOSS], rows)


def funnel_table(report: FunnelReport) -> Table:
    columns = ["stage_id", "stage", "position", "kind", "entered", "moved_on", "won",
               "conversion_to_next", "conversion_to_won", "stays", "still_in_stage",
               "median_days", "mean_days"]
    return Table(f"Funnel {report.sales_process.name}", columns, [
        [s.stage.id, s.stage.name, *[getattr(s, c) for c in columns[2:]]]
        for s in report.stages])


def calibration_table(process: Named, stages: list[CalibrationStage]) -> Table:
    columns = ["stage_id", "stage", "position", "kind", "configured_probability", "entered",
               "won", "lost", "sample_size", "observed_probability"]
    return Table(f"Calibration {process.name}", columns, [
        [s.stage.id, s.stage.name, *[getattr(s, c) for c in columns[2:]]] for s in stages])


def activity_table(report: ActivityReport) -> Table:
    kinds = list(report.sellers[0].done) if report.sellers else []
    rows: list[list[Cell]] = [
        [s.seller.id if s.seller else None, s.seller.name if s.seller else None,
         *[s.done[k] for k in kinds], *[s.open[k] for k in kinds], s.overdue_follow_ups,
         s.active_opportunities] for s in report.sellers]
    return Table("Activity", ["seller_id", "seller", *(f"done_{k}" for k in kinds),
                              *(f"open_{k}" for k in kinds), "overdue_follow_ups",
                              "active_opportunities"], rows)


def movement_table(report: MovementReport) -> Table:
    """Opening, each line with its sign, closing; then each unconverted currency's
    opening and closing in that currency."""
    base = report.currency
    rows: list[list[Cell]] = [["opening", None, base, report.opening.count,
                               report.opening.amount]]
    rows += [[m.line.value, "in" if m.sign > 0 else "out", base, m.count, m.amount]
             for m in report.lines]
    rows.append(["closing", None, base, report.closing.count, report.closing.amount])
    for u in report.unconverted:
        rows += [["unconverted_opening", None, u.currency, u.count, u.opening_amount],
                 ["unconverted_closing", None, u.currency, u.count, u.closing_amount]]
    return Table("Pipeline movement", ["line", "direction", "currency", "count", "amount"],
                 rows)
