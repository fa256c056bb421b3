"""The rules of the history and outcome reports (DOMAIN.md §8): win-loss, funnel, stage
calibration, seller activity, the pipeline as of a past day and the pipeline movement
between two days. Grouping keys, periods, rounding and the win rate are the shared ones of
domain/reports/pipeline.py; figures are exact until they are rounded here, once, half-even."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from salescore.domain.errors import InvalidInput
from salescore.domain.reports.pipeline import (
    GroupKey,
    KeyValue,
    Named,
    cents,
    two_places,
    win_rate,
)

WIN_LOSS_KEYS = (GroupKey.OWNER, GroupKey.DEPARTMENT, GroupKey.SALES_PROCESS,
                 GroupKey.SOURCE, GroupKey.TYPE, GroupKey.CAMPAIGN)
# The list filters the history can answer as they stood (the opportunity's id included).
AS_OF_FILTERS = frozenset({"id", "owner_id", "seller_id", "customer_id", "campaign_id",
                           "stage_id", "sales_process_id", "status", "type_id", "source_id",
                           "amount", "probability", "expected_close_date", "closed_at",
                           "created_at"})


def average(total: Decimal | int | None, count: int) -> Decimal | None:
    """The mean of `count` values summing exactly to `total`; of none, null."""
    return None if count == 0 else two_places(Decimal(total or 0) / Decimal(count))


@dataclass(frozen=True, slots=True)
class Outcome:
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class WinLossFigures:
    """Closed opportunities of a period by how they ended. The win rate is won / (won +
    lost); the average deal is the won amount per won deal; the sales cycle is the days
    from the date an opportunity was created to the date it was won, both in the
    organization's time zone, averaged over the won deals."""

    won: Outcome
    lost: Outcome
    expired: Outcome
    win_rate: Decimal | None
    average_won_amount: Decimal | None
    average_sales_cycle_days: Decimal | None


def win_loss_figures(exact: dict[str, tuple[int, Decimal, int]]) -> WinLossFigures:
    """Figures from exact sums per status: (count, amount, days from created to closed)."""
    def of(status: str) -> tuple[int, Decimal, int]:
        return exact.get(status, (0, Decimal(0), 0))

    (won, won_amount, cycle), lost, expired = of("won"), of("lost"), of("expired")
    return WinLossFigures(
        won=Outcome(won, cents(won_amount)), lost=Outcome(lost[0], cents(lost[1])),
        expired=Outcome(expired[0], cents(expired[1])), win_rate=win_rate(won, lost[0]),
        average_won_amount=average(won_amount, won),
        average_sales_cycle_days=average(cycle, won))


@dataclass(frozen=True, slots=True)
class WinLossGroup:
    key: dict[GroupKey, KeyValue]
    figures: WinLossFigures


@dataclass(frozen=True, slots=True)
class LossReasonFigures:
    """Lost opportunities by reason (`None`: lost without one)."""

    loss_reason: Named | None
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class UnconvertedOutcomes:
    """Closed opportunities in `currency`, which has no rate: in that currency."""

    currency: str
    figures: WinLossFigures


@dataclass(frozen=True, slots=True)
class WinLossReport:
    currency: str
    fx_date: date
    start: date | None
    end: date | None
    group_by: tuple[GroupKey, ...]
    groups: list[WinLossGroup]
    total: WinLossFigures
    lost_by_reason: list[LossReasonFigures]
    unconverted: list[UnconvertedOutcomes]


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One stage: the opportunities that entered it in the period; how many of them went
    on to a later stage (an open or won stage further on in the process) and how many were
    won in the end; and the days their stays in it lasted (open stages only)."""

    stage: Named
    position: int
    kind: str
    entered: int
    moved_on: int
    won: int
    conversion_to_next: Decimal | None
    conversion_to_won: Decimal | None
    stays: int
    still_in_stage: int
    median_days: Decimal | None
    mean_days: Decimal | None


@dataclass(frozen=True, slots=True)
class FunnelReport:
    sales_process: Named
    start: date | None
    end: date | None
    measured_at: datetime
    stages: list[FunnelStage]


@dataclass(frozen=True, slots=True)
class CalibrationStage:
    """A stage's configured probability beside the share of the opportunities that were
    ever in it and have since closed as won or lost that were won (expired ones and those
    still open are not part of the sample)."""

    stage: Named
    position: int
    kind: str
    configured_probability: Decimal
    entered: int
    won: int
    lost: int
    sample_size: int
    observed_probability: Decimal | None


@dataclass(frozen=True, slots=True)
class SellerActivity:
    """A seller's activities done in the period and open now, by kind; follow-ups past due
    and not done; and the open opportunities they own. `seller` None: unassigned."""

    seller: Named | None
    done: dict[str, int]
    open: dict[str, int]
    overdue_follow_ups: int
    active_opportunities: int


@dataclass(frozen=True, slots=True)
class ActivityReport:
    start: date | None
    end: date | None
    measured_at: datetime
    sellers: list[SellerActivity]


@dataclass(frozen=True, slots=True)
class CloseWindow:
    """Which open opportunities count as the pipeline in a movement report: those expected
    to close within [first, last], either end of it open. Without bounds every open one
    counts; with a bound, an opportunity without an expected close date is outside."""

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first is not None and self.last is not None and self.last < self.first:
            raise InvalidInput.of("close_to", "must be on or after close_from")


class Movement(StrEnum):
    """The lines of the waterfall from the pipeline at the end of `from` (opening) to the
    one at the end of `to` (closing), each opportunity in the base currency.

    One in the opening pipeline brings its amount then; if it still exists at the end, the
    change of its amount is `increased` or `decreased`, and if it has left the pipeline it
    leaves with its amount at the end: won, lost, expired, or slipped (still open, but now
    expected to close outside the window); a deleted one leaves with its opening amount.
    One not in the opening pipeline enters with its amount at the end: `new` (it did not
    exist at the end of `from`; one made and closed in between is new and then won, lost
    or expired), `reopened` (it was closed then) or `pulled_in` (open then, but expected
    to close outside the window). One closed at both ends is not in the waterfall, even if
    it was reopened and closed again in between; nor is one made and deleted in between.

    Each opportunity's amount at each end is converted and rounded half-even to the cent
    on its own, so that the lines add up exactly; the pipeline report rounds its exact sum
    once, so with foreign currencies the two may differ by a few cents."""

    NEW = "new"
    REOPENED = "reopened"
    PULLED_IN = "pulled_in"
    INCREASED = "increased"
    DECREASED = "decreased"
    WON = "won"
    LOST = "lost"
    EXPIRED = "expired"
    SLIPPED = "slipped"
    DELETED = "deleted"


INFLOWS = frozenset({Movement.NEW, Movement.REOPENED, Movement.PULLED_IN,
                     Movement.INCREASED})


def sign_of(line: Movement) -> int:
    """+1 for what enters the pipeline or grows it, -1 for what leaves it or shrinks it."""
    return 1 if line in INFLOWS else -1


@dataclass(frozen=True, slots=True)
class MovementLine:
    line: Movement
    count: int
    amount: Decimal

    @property
    def sign(self) -> int:
        return sign_of(self.line)


@dataclass(frozen=True, slots=True)
class UnconvertedMovement:
    """Opportunities of the waterfall with an amount in `currency`, which has no rate:
    left out of every line, their opening and closing amounts in that currency."""

    currency: str
    count: int
    opening_amount: Decimal
    closing_amount: Decimal


@dataclass(frozen=True, slots=True)
class MovementReport:
    currency: str
    fx_date: date
    start: date
    end: date
    window: CloseWindow
    opening: Outcome
    lines: list[MovementLine]
    closing: Outcome
    unconverted: list[UnconvertedMovement]


def balance(opening: Decimal, lines: list[MovementLine]) -> Decimal:
    """Opening plus every inflow minus every outflow: what the closing pipeline must be."""
    return opening + sum((line.sign * line.amount for line in lines), Decimal(0))

