"""Bodies of exchange rates and of the pipeline, commission and campaign reports, and the
reports' rows as an export table (one row per group: key columns, then figures)."""

from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints
from pydantic import WithJsonSchema as JsonSchema
from typing_extensions import TypedDict

from salescore.api.exports import Cell, Table
from salescore.api.v1 import examples
from salescore.api.v1.schemas import DateIn, Decimal2, DecimalText, NoNul, Patch, Strict
from salescore.domain.reports.exchange_rates import ExchangeRate, rate_text
from salescore.domain.reports.pipeline import (
    PERIODS,
    CampaignFigures,
    CommissionFigures,
    Figures,
    GroupKey,
    KeyValue,
    Named,
    Report,
    money_fields,
)

Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), NoNul,
                     Field(description="ISO 4217, not the base currency.", examples=["EUR"])]
RateIn = Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=10, allow_inf_nan=False,
                                  description="Base-currency units per unit of `currency`, "
                                              "at most ten decimals."), DecimalText("11.7325")]
MoneyText = Annotated[str, Field(pattern=r"^\d+\.\d{2}$", examples=["1250.00"])]
RateOut = Annotated[Decimal, PlainSerializer(rate_text, return_type=str), JsonSchema(
    {"type": "string", "pattern": r"^\d+(\.\d{1,10})?$", "examples": ["11.7325"]},
    mode="serialization")]


class ExchangeRateCreate(Strict):
    currency: Currency
    rate: RateIn
    valid_from: DateIn = Field(description="The first day the rate applies; it applies until "
                                         "the next rate of the currency.")


class ExchangeRateUpdate(Patch):
    currency: Currency | None = None
    rate: RateIn | None = None
    valid_from: DateIn | None = None


class ExchangeRateRead(BaseModel):
    id: int
    currency: str
    rate: RateOut
    valid_from: date
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, rate: ExchangeRate) -> "ExchangeRateRead":
        return cls(id=rate.id, currency=rate.currency, rate=rate.rate,
                   valid_from=rate.valid_from, created_at=rate.created_at,
                   updated_at=rate.updated_at, version=rate.version)


class NamedRead(BaseModel):
    id: int
    name: str


KeyRead = dict[str, NamedRead | str | None]


def _key(key: dict[GroupKey, KeyValue]) -> KeyRead:
    return {k.value: NamedRead(id=v.id, name=v.name) if isinstance(v, Named) else v
            for k, v in key.items()}


class PipelineFigures(BaseModel):
    count: int
    amount: Decimal2
    weighted_amount: Decimal2 = Field(description="Sum of amount * probability / 100, "
                                                  "rounded half-even once.")

    @classmethod
    def of(cls, figures: Figures) -> "PipelineFigures":
        return cls(count=figures.count, amount=figures.amount,
                   weighted_amount=figures.weighted_amount)


class NamedKey(TypedDict):
    id: int
    name: str


class PipelineGroup(TypedDict):
    """A group of the pipeline: a plain mapping, since a pipeline by owner and stage can
    have thousands, each made cheaply from the report's figures."""

    key: Annotated[dict[str, NamedKey | str | None], Field(description=(
        "Per `group_by` key: `{id, name}`, or for `month` `YYYY-MM` and `quarter` "
        "`YYYY-Qn`; `null` for none."))]
    count: int
    amount: MoneyText
    weighted_amount: MoneyText


def _pipeline_groups(report: Report[Figures]) -> list[PipelineGroup]:
    """The groups as plain mappings; the `{id, name}` of a record is made once however
    many groups name it (serialised, each is written out in full)."""
    made: dict[GroupKey, dict[int, NamedKey]] = {key: {} for key in report.group_by}

    def key_of(key: GroupKey, value: KeyValue) -> NamedKey | str | None:
        if not isinstance(value, Named):
            return value
        named = made[key].get(value.id)
        if named is None:
            named = made[key][value.id] = {"id": value.id, "name": value.name}
        return named

    names = [(key, key.value) for key in report.group_by]
    return [{"key": {name: key_of(key, group.key[key]) for key, name in names},
             "count": group.figures.count, "amount": str(group.figures.amount),
             "weighted_amount": str(group.figures.weighted_amount)}
            for group in report.groups]


class PipelineUnconverted(PipelineFigures):
    currency: str


class PipelineReportRead(BaseModel):
    model_config = examples.shown("PipelineReportRead")

    currency: str = Field(description="The organization's base currency.")
    fx_date: date
    group_by: list[GroupKey]
    groups: list[PipelineGroup]
    total: PipelineFigures
    unconverted: list[PipelineUnconverted] = Field(description=(
        "Opportunities in a currency without a rate on `fx_date`, in that currency; left "
        "out of groups and total."))

    @classmethod
    def of(cls, report: Report[Figures]) -> "PipelineReportRead":
        """Made without validation: the domain's figures are typed already, and copying
        thousands of groups to check them would cost more than the query."""
        return cls.model_construct(
            currency=report.currency, fx_date=report.fx_date, group_by=list(report.group_by),
            groups=_pipeline_groups(report), total=PipelineFigures.of(report.total),
            unconverted=[PipelineUnconverted(currency=u.currency, **vars_of(u.figures))
                         for u in report.unconverted])


def vars_of(figures: Any) -> dict[str, Any]:
    return {name: getattr(figures, name) for name, _ in money_fields(type(figures))}


class _Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    currency: str = Field(description="The organization's base currency.")
    fx_date: date
    from_: date | None = Field(alias="from")
    to: date | None


class CommissionRow(BaseModel):
    won_count: int
    won_amount: Decimal2 = Field(description="Sum of amount * share / 100 of deals won.")
    open_count: int
    expected_amount: Decimal2 = Field(description="Sum of amount * share / 100 * "
                                                  "probability / 100 of open deals.")


class SellerCommission(CommissionRow):
    seller: NamedRead


class CommissionUnconverted(CommissionRow):
    currency: str


class CommissionReportRead(_Period):
    sellers: list[SellerCommission]
    total: CommissionRow
    unconverted: list[CommissionUnconverted]

    @classmethod
    def of(cls, report: Report[CommissionFigures]) -> "CommissionReportRead":
        return cls(currency=report.currency, fx_date=report.fx_date, from_=report.start,
                   to=report.end,
                   sellers=[SellerCommission(seller=_key(g.key)["seller"],
                                             **vars_of(g.figures)) for g in report.groups],
                   total=CommissionRow(**vars_of(report.total)),
                   unconverted=[CommissionUnconverted(currency=u.currency,
                                                      **vars_of(u.figures))
                                for u in report.unconverted])


class CampaignRow(BaseModel):
    created_count: int = Field(description="Opportunities created in the period.")
    open_count: int
    pipeline_amount: Decimal2
    weighted_amount: Decimal2
    won_count: int
    won_amount: Decimal2
    lost_count: int
    expired_count: int
    win_rate: Decimal2 | None = Field(description="won / (won + lost) in percent; null "
                                                  "when none is won or lost.")

    @classmethod
    def fields_of(cls, figures: CampaignFigures) -> dict[str, Any]:
        return {**vars_of(figures), "win_rate": figures.win_rate}


class CampaignGroup(CampaignRow):
    key: KeyRead


class CampaignUnconverted(CampaignRow):
    currency: str


class CampaignReportRead(_Period):
    group_by: GroupKey
    groups: list[CampaignGroup]
    total: CampaignRow
    unconverted: list[CampaignUnconverted]

    @classmethod
    def of(cls, report: Report[CampaignFigures]) -> "CampaignReportRead":
        return cls(currency=report.currency, fx_date=report.fx_date, from_=report.start,
                   to=report.end, group_by=report.group_by[0],
                   groups=[CampaignGroup(key=_key(g.key), **CampaignRow.fields_of(g.figures))
                           for g in report.groups],
                   total=CampaignRow(**CampaignRow.fields_of(report.total)),
                   unconverted=[CampaignUnconverted(currency=u.currency,
                                                    **CampaignRow.fields_of(u.figures))
                                for u in report.unconverted])


def report_table(title: str, report: Report[Any]) -> Table:
    """The groups (in the base currency), then the unconverted currencies (key cells
    empty): key columns, the currency, the figures (and a campaign's win rate)."""
    key_columns: list[str] = []
    for key in report.group_by:
        key_columns += [key.value] if key in PERIODS else [f"{key.value}_id", key.value]
    names = [f.name for f in fields(report.total)]
    rate = isinstance(report.total, CampaignFigures)

    def figures(values: Any) -> list[Cell]:
        cells: list[Cell] = [getattr(values, n) for n in names]
        return [*cells, values.win_rate] if rate else cells

    rows: list[list[Cell]] = []
    for group in report.groups:
        keys: list[Cell] = []
        for key, value in group.key.items():
            if key in PERIODS:
                keys.append(value if isinstance(value, str) else None)
            else:
                keys += [value.id, value.name] if isinstance(value, Named) else [None, None]
        rows.append([*keys, report.currency, *figures(group.figures)])
    rows += [[*[None] * len(key_columns), u.currency, *figures(u.figures)]
             for u in report.unconverted]
    return Table(title, [*key_columns, "currency", *names, *(["win_rate"] if rate else [])],
                 rows)
