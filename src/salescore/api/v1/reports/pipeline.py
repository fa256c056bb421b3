"""The pipeline / forecast, commission and campaign reports, as JSON or as a file: `format=csv`
or `xlsx`, or an `Accept` header naming text/csv or the xlsx media type."""

import inspect
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.exports import MEDIA_TYPES, ExportFormat, export_response
from salescore.api.listing import Filter, filter_parameters, refuse_unknown
from salescore.api.routing import Router
from salescore.api.v1.reports.schemas import (
    CampaignReportRead,
    CommissionReportRead,
    PipelineReportRead,
    report_table,
)
from salescore.api.v1.schemas import DateIn, Money, Percent
from salescore.domain.listing import Condition
from salescore.domain.reports.bounds import MAX_GROUPS, MAX_PERIOD_YEARS
from salescore.domain.reports.pipeline import GroupKey, one_group_key, parse_group_by
from salescore.services.reports import history
from salescore.services.reports import pipeline as reports

router = Router(prefix="/v1/reports", tags=["reports"])
# The filters of GET /v1/opportunities, with their meaning; the pipeline is open ones only.
PIPELINE_FILTERS = [
    Filter("q", str, pattern=True), Filter("name", str, pattern=True),
    Filter("owner_id", int), Filter("seller_id", int), Filter("customer_id", int),
    Filter("contact_id", int), Filter("campaign_id", int), Filter("stage_id", int),
    Filter("sales_process_id", int), Filter("type_id", int), Filter("source_id", int),
    Filter("external_id", str), Filter("id", int, ranges=True),
    Filter("amount", Money, ranges=True), Filter("probability", Percent, ranges=True),
    Filter("expected_close_date", date, ranges=True),
    Filter("follow_up_date", date, ranges=True), Filter("created_at", datetime, ranges=True),
    Filter("updated_at", datetime, ranges=True),
]
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "The report; with `format` or `Accept`, a CSV or xlsx file of its rows.",
    "content": {MEDIA_TYPES[f].split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for f in (ExportFormat.CSV, ExportFormat.XLSX)}}}


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


FormatParam = Annotated[ReportFormat | None, Query(
    alias="format", description="`csv` or `xlsx` for a file; default JSON, or what "
                                "`Accept` asks for.")]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
FxDate = Annotated[DateIn | None, Query(description="Convert at the rates valid on this "
                                                  "day; default today (organization's zone).")]
From = Annotated[DateIn | None, Query(alias="from", description="First day, inclusive.")]
TO_BOUND = f"Last day, inclusive; at most {MAX_PERIOD_YEARS} years after `from` (422)."
GROUPS_BOUND = (f" At most {MAX_GROUPS:,} groups: past it 422, to filter or group by "
                "fewer keys.")
To = Annotated[DateIn | None, Query(description=TO_BOUND)]


def file_format(given: ReportFormat | None, accept: str | None) -> ExportFormat | None:
    """The file asked for, if any: `format` first, else the first of JSON, CSV and xlsx
    that the `Accept` header names (in its order; q-values are not weighed)."""
    if given is not None:
        return None if given is ReportFormat.JSON else ExportFormat(given.value)
    files = {MEDIA_TYPES[f].split(";")[0]: f for f in (ExportFormat.CSV, ExportFormat.XLSX)}
    for media in (part.split(";")[0].strip().lower() for part in (accept or "").split(",")):
        if media == "application/json":
            return None
        if media in files:
            return files[media]
    return None


def report_filters(filters: Sequence[Filter], own: Collection[str]) -> Callable[..., Any]:
    """A dependency reading `filters` as the lists do (`field`, `field[gte]`, `[lte]`,
    `[ne]`, text patterns), refusing any parameter that is neither a filter nor `own`."""
    read = filter_parameters(filters)
    params = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("state", inspect.Parameter.KEYWORD_ONLY, annotation=AppStateDep),
        inspect.Parameter("caller", inspect.Parameter.KEYWORD_ONLY, annotation=CallerDep),
        *read.parameters]
    known = read.names | set(own)

    async def dependency(**kwargs: Any) -> tuple[Condition, ...]:
        refuse_unknown(kwargs.pop("request"), known, "report")
        state, caller = kwargs.pop("state"), kwargs.pop("caller")
        return await read.conditions(kwargs, state=state, caller=caller)

    dependency.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return dependency


PipelineFilters = Annotated[tuple[Condition, ...], Depends(report_filters(
    PIPELINE_FILTERS, {"group_by", "as_of", "fx_date", "format"}))]
CommissionsFilters = Annotated[tuple[Condition, ...], Depends(report_filters(
    [], {"from", "to", "fx_date", "format"}))]
CampaignsFilters = Annotated[tuple[Condition, ...], Depends(report_filters(
    [], {"group_by", "from", "to", "fx_date", "format"}))]
GROUP_BY = ("Comma-separated: " + ", ".join(k.value for k in GroupKey) + ". `seller` splits "
            "by share; department, sales_region and sales_group are the owner's."
            + GROUPS_BOUND)


@router.get("/pipeline", response_model=PipelineReportRead, responses=REPORT_RESPONSES)
async def read_pipeline_report(
        request: Request, caller: CallerDep, uow: UnitOfWorkDep, conditions: PipelineFilters,
        group_by: Annotated[str | None, Query(description=GROUP_BY)] = None,
        as_of: Annotated[DateIn | None, Query(description=(
            "The pipeline as it stood at the end of this past day (organization's zone), "
            "rebuilt from the history, `seller` by the shares held then; the filters the "
            "history does not keep (q, name, contact_id, external_id, follow_up_date, "
            "updated_at) are refused with it."))] = None,
        fx_date: FxDate = None, format: FormatParam = None) -> Response:
    """Open opportunities, filtered as `GET /v1/opportunities` filters, grouped by the
    `group_by` keys: count, amount and weighted amount in the base currency, and the
    total (without `group_by`, the total alone). Opportunities without an expected close
    date form the `null` month or quarter.
    A user in several sales groups counts in each (so those groups add up to more than the
    total); in none, in the `null` group."""
    # The body is serialised here and `Accept` read from the request, not declared as a
    # header parameter: a route that answers a Response of its own, from query parameters
    # only, is served without FastAPI's per-request solver (api/lean_routes.py).
    keys = parse_group_by(group_by)
    if as_of is None:
        report = await reports.pipeline_report(uow, caller=caller, keys=keys,
                                               conditions=conditions, fx_date=fx_date)
    else:
        report = await history.pipeline_as_of(uow, caller=caller, as_of=as_of, keys=keys,
                                               conditions=conditions, fx_date=fx_date)
    fmt = file_format(format, request.headers.get("accept"))
    if fmt is not None:
        title = "Pipeline" if as_of is None else f"Pipeline as of {as_of}"
        return export_response(report_table(title, report), fmt, "pipeline")
    return Response(PipelineReportRead.of(report).model_dump_json(),
                    media_type="application/json")


@router.get("/commissions", response_model=CommissionReportRead, responses=REPORT_RESPONSES)
async def read_commission_report(caller: CallerDep, uow: UnitOfWorkDep, _: CommissionsFilters,
                                 start: From = None, to: To = None, fx_date: FxDate = None,
                                 format: FormatParam = None,
                                 accept: AcceptHeader = None) -> CommissionReportRead | Response:
    """Per seller, from their shares: the deals won from `from` to `to` (by closing day in
    the organization's time zone) and amount * share / 100 of them; the deals open now and
    the expected commission, amount * share / 100 * probability / 100."""
    report = await reports.commission_report(uow, caller=caller, start=start, end=to,
                                             fx_date=fx_date)
    fmt = file_format(format, accept)
    if fmt is not None:
        return export_response(report_table("Commissions", report), fmt, "commissions")
    return CommissionReportRead.of(report)


@router.get("/campaigns", response_model=CampaignReportRead, responses=REPORT_RESPONSES)
async def read_campaign_report(
        caller: CallerDep, uow: UnitOfWorkDep, _: CampaignsFilters,
        group_by: Annotated[str, Query(description="`campaign` (default) or `source`."
                                                   + GROUPS_BOUND)]
        = "campaign", start: From = None, to: To = None, fx_date: FxDate = None,
        format: FormatParam = None, accept: AcceptHeader = None) -> CampaignReportRead | Response:
    """Per campaign (or source; none is the `null` group): the opportunities created from
    `from` to `to`, and what they are now: open pipeline and weighted amount, won amount,
    won, lost and expired counts, win rate = won / (won + lost)."""
    key = one_group_key(group_by, (GroupKey.CAMPAIGN, GroupKey.SOURCE))
    report = await reports.campaign_report(uow, caller=caller, key=key, start=start, end=to,
                                           fx_date=fx_date)
    fmt = file_format(format, accept)
    if fmt is not None:
        return export_response(report_table("Campaigns", report), fmt, "campaigns")
    return CampaignReportRead.of(report)
