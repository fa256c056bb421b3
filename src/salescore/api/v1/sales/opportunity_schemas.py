"""Request and response bodies of opportunities and their sellers, and the parts `expand=`
embeds in an opportunity."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, NoReturn

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, create_model
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from salescore.api.json_bodies import JsonBody
from salescore.api.listing import PageOf
from salescore.api.v1 import examples
from salescore.api.v1.sales.line_schemas import LineRead, SignedDecimal2
from salescore.api.v1.sales.order_schemas import OrderRead
from salescore.api.v1.schemas import (
    DateIn,
    Decimal2,
    DecimalText,
    ExternalId,
    Id,
    MoneyIn,
    Name,
    NoNul,
    Patch,
    PercentIn,
    Strict,
    Text,
)
from salescore.domain.errors import InvalidInput
from salescore.domain.sales.opportunities import (
    AmountSource,
    Opportunity,
    ProbabilitySource,
    Status,
)
from salescore.domain.sales.shares import Seller, ShareWarning, as_percent
from salescore.repositories.feed.events import StoredEvent

Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), NoNul,
                     Field(description="ISO 4217; defaults to the organization's currency.",
                           examples=["NOK"])]
MarginIn = Annotated[Decimal, Field(max_digits=18, decimal_places=2, allow_inf_nan=False,
                                    description="May be negative: a deal sold at a loss."),
                     DecimalText("300.00")]
ShortText = Annotated[str, StringConstraints(max_length=200), NoNul]
LossReasonId = Annotated[Id, Field(description="An active loss reason; only for a lost "
                                               "stage, required there when the "
                                               "organization's settings say so.")]
LossNote = Annotated[Text, Field(description="Only for a lost stage.")]
AmountSourceIn = Annotated[AmountSource, Field(description=(
    "`lines`: amount and margin_amount are derived from the product lines and cannot be "
    "written; `manual` (the default): typed in. Switching back to manual keeps the last "
    "amount."))]
OfferDiscountIn = Annotated[PercentIn, Field(description="The discount on the whole offer, "
                                                         "after the line discounts.")]
# What a write that changes fields (PATCH, the upsert) may set to null.
NULLABLE_FIELDS = frozenset({"description", "contact_id", "type_id", "source_id",
                             "campaign_id", "margin_amount", "expected_close_date",
                             "follow_up_date", "project_ref", "loss_reason_id", "loss_note"})


def _never_written(hint: str) -> BeforeValidator:
    """Refuses any value of a field of the answer that a write cannot set, naming the field
    with `hint` (what to do instead) rather than calling it unknown."""
    def refuse(value: object) -> NoReturn:
        raise PydanticCustomError("read_only", hint)
    return BeforeValidator(refuse)


# Such a field takes no value and is absent from the request's schema.
NeverWritten = Annotated[SkipJsonSchema[Any], Field(exclude=True)]
_LIFECYCLE = "POST /v1/opportunities/{id}/win, /lose, /expire or /reopen"
_SERVER_SET = _never_written("is set by the server and never written")


class OpportunityFields(Strict):
    description: Text | None = None
    contact_id: Id | None = Field(default=None, description="A contact of the customer.")
    owner_id: Id | None = Field(default=None, description="Defaults to the calling user; "
                                                          "an API key must give it.")
    sales_process_id: Id | None = Field(
        default=None, description="Defaults to the owner's default process.")
    stage_id: Id | None = Field(default=None,
                                description="Defaults to the process's first open stage.")
    type_id: Id | None = None
    source_id: Id | None = None
    campaign_id: Id | None = None
    amount: MoneyIn | None = None
    currency: Currency | None = None
    probability: PercentIn | None = Field(
        default=None, description="Set by hand; otherwise the stage's probability.")
    margin_amount: MarginIn | None = None
    expected_close_date: DateIn | None = None
    follow_up_date: DateIn | None = None
    project_ref: ShortText | None = None
    loss_reason_id: LossReasonId | None = None
    loss_note: LossNote | None = None
    amount_source: AmountSourceIn | None = None
    discount_percent: OfferDiscountIn | None = None


class OpportunityCreate(OpportunityFields):
    model_config = examples.shown("OpportunityCreate")

    name: Name
    customer_id: Id
    external_id: ExternalId | None = None


class OpportunityUpsert(OpportunityFields, Patch):
    """The opportunity an integrator knows by its external id: created with these fields,
    or, when it exists, changed in the fields given. `null` only where a PATCH takes it,
    whether the opportunity exists yet or not, so that a retry gets the same answer."""

    NULLABLE = NULLABLE_FIELDS

    name: Name
    customer_id: Id


class OpportunityUpdate(Patch):
    model_config = examples.shown("OpportunityUpdate")

    NULLABLE = NULLABLE_FIELDS | {"external_id"}

    name: Name | None = None
    description: Text | None = None
    customer_id: Id | None = None
    contact_id: Id | None = None
    owner_id: Id | None = None
    sales_process_id: Id | None = Field(
        default=None, description="Changing it requires a `stage_id` of the new process.")
    stage_id: Id | None = None
    type_id: Id | None = None
    source_id: Id | None = None
    campaign_id: Id | None = None
    amount: MoneyIn | None = None
    currency: Currency | None = None
    probability: PercentIn | None = None
    margin_amount: MarginIn | None = None
    expected_close_date: DateIn | None = None
    follow_up_date: DateIn | None = None
    project_ref: ShortText | None = None
    external_id: ExternalId | None = None
    loss_reason_id: LossReasonId | None = None
    loss_note: LossNote | None = None
    amount_source: AmountSourceIn | None = None
    discount_percent: OfferDiscountIn | None = Field(
        default=None, description="With amount source `lines`, the amount follows.")
    # What a client may send back from a read (OpportunityRead) but not write:
    status: Annotated[NeverWritten, _never_written(
        f"is changed by the lifecycle actions, not by PATCH: use {_LIFECYCLE}")] = None
    closed_at: Annotated[NeverWritten, _never_written(
        f"is set as the opportunity is won, lost or expired: use {_LIFECYCLE}")] = None
    weighted_amount: Annotated[NeverWritten, _never_written(
        "is derived (amount x probability / 100) and never written: change amount or "
        "probability")] = None
    margin_percent: Annotated[NeverWritten, _never_written(
        "is derived (margin_amount / amount) and never written: change margin_amount")] = None
    lines_total: Annotated[NeverWritten, _never_written(
        "is the sum of the product lines and never written: change the lines at "
        "/v1/opportunities/{id}/lines")] = None
    ordered_amount: Annotated[NeverWritten, _never_written(
        "is the sum of the orders linked to it and never written")] = None
    sellers: Annotated[NeverWritten, _never_written(
        "are changed at /v1/opportunities/{id}/sellers (POST a seller; PATCH or DELETE "
        "/sellers/{user_id})")] = None
    probability_source: Annotated[NeverWritten, _never_written(
        "follows from probability: sending a probability makes it manual")] = None
    previous_follow_up_date: Annotated[NeverWritten, _never_written(
        "is kept by the server as follow_up_date changes: change follow_up_date")] = None
    version: Annotated[NeverWritten, _never_written(
        "is never written: send the version read as the If-Match header")] = None
    id: Annotated[NeverWritten, _SERVER_SET] = None
    created_at: Annotated[NeverWritten, _SERVER_SET] = None
    created_by: Annotated[NeverWritten, _SERVER_SET] = None
    updated_at: Annotated[NeverWritten, _SERVER_SET] = None
    updated_by: Annotated[NeverWritten, _SERVER_SET] = None


class MoveRequest(Strict):
    model_config = examples.shown("MoveRequest")

    stage_id: Id
    probability: PercentIn | None = None
    loss_reason_id: LossReasonId | None = None
    loss_note: LossNote | None = None


class WinRequest(Strict):
    model_config = examples.shown("WinRequest")

    stage_id: Id | None = Field(default=None, description="A won stage; default: the "
                                                          "process's first won stage.")


class LoseRequest(Strict):
    model_config = examples.shown("LoseRequest")

    loss_reason_id: Id | None = None
    loss_note: Text | None = None
    stage_id: Id | None = Field(default=None, description="A lost stage; default: the "
                                                          "process's first lost stage.")


class ReopenRequest(Strict):
    stage_id: Id | None = Field(default=None, description="An open stage; default: the last "
                                                          "open stage it was in.")


class BulkDeleteRequest(Strict):
    ids: list[Id] = Field(min_length=1, max_length=500)


class BulkDeleteResult(BaseModel):
    deleted: int


class SellerRead(BaseModel):
    user_id: int
    share: Decimal2

    @classmethod
    def of(cls, seller: Seller) -> "SellerRead":
        return cls(user_id=seller.user_id, share=as_percent(seller.share))


class OpportunityRead(BaseModel):
    model_config = examples.shown("OpportunityRead")

    id: int
    name: str
    description: str | None
    customer_id: int
    contact_id: int | None
    owner_id: int
    sales_process_id: int
    stage_id: int
    status: Status
    type_id: int | None
    source_id: int | None
    campaign_id: int | None
    amount: Decimal2
    currency: str
    probability: Decimal2
    probability_source: ProbabilitySource
    weighted_amount: Decimal2 = Field(description="amount x probability / 100, rounded "
                                                  "half-even to the cent; never written.")
    margin_amount: SignedDecimal2 | None
    margin_percent: SignedDecimal2 | None
    amount_source: AmountSource
    discount_percent: Decimal2 = Field(description="The discount on the whole offer.")
    lines_total: Decimal2 = Field(description="The sum of the line totals (before the offer "
                                              "discount); never written.")
    ordered_amount: Decimal2 | None = Field(description="The sum of the orders linked to it, "
                                                        "in its currency; null without "
                                                        "orders. Never written.")
    expected_close_date: date | None
    follow_up_date: date | None
    previous_follow_up_date: date | None
    loss_reason_id: int | None
    loss_note: str | None
    closed_at: datetime | None
    project_ref: str | None
    external_id: str | None
    sellers: list[SellerRead]
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int

    @classmethod
    def values_of(cls, o: Opportunity) -> dict[str, Any]:
        """The answer's fields as plain values, in the model's order: what every read and
        write answers with, written straight to JSON by `OPPORTUNITY_JSON`, so its cost
        counts (one getattr a field)."""
        sellers = [{"user_id": s.user_id, "share": as_percent(s.share)} for s in o.sellers]
        return {name: sellers if name == "sellers" else getattr(o, name)
                for name in _READ_FIELDS}

    @classmethod
    def of(cls, o: Opportunity) -> "OpportunityRead":
        return cls.model_validate(cls.values_of(o))


_READ_FIELDS = tuple(OpportunityRead.model_fields)
OPPORTUNITY_JSON = JsonBody(OpportunityRead)
OPPORTUNITY_PAGE_JSON = JsonBody(PageOf[OpportunityRead])


@dataclass(frozen=True, slots=True)
class Embedded:
    """A part `expand=` embeds: a list of `model`s under its name (the service loads it:
    services/sales/opportunities.EXPANSIONS)."""

    model: type[BaseModel]
    values_of: Callable[[Any], dict[str, Any]]
    description: str


# A new part is one entry here and one in the service's EXPANSIONS.
EMBEDDED: dict[str, Embedded] = {
    "lines": Embedded(LineRead, LineRead.values_of, "With `expand=lines`: the product "
                                                    "lines, in position order."),
    "orders": Embedded(OrderRead, OrderRead.values_of, "With `expand=orders`: the orders an "
                                                       "ERP linked, oldest first."),
}
ALWAYS_EMBEDDED = frozenset({"sellers"})


def expansions(expand: str | None) -> tuple[str, ...]:
    """The parts a comma-separated `expand` names, in EMBEDDED's order, less those always
    there; a name that is neither is refused, naming `expand`."""
    if expand is None:
        return ()
    named = {part.strip() for part in expand.split(",")} - {""}
    unknown = sorted(named - EMBEDDED.keys() - ALWAYS_EMBEDDED)
    if unknown:
        known = ", ".join(sorted({*EMBEDDED, *ALWAYS_EMBEDDED}))
        raise InvalidInput.of("expand", f"cannot expand {unknown[0]!r}; it takes {known}")
    return tuple(name for name in EMBEDDED if name in named)


def _with_parts(name: str, parts: Sequence[str], *, required: bool) -> type[BaseModel]:
    """OpportunityRead with a list field for each part: always there when `required`,
    else documented as there only when expanded."""
    fields: dict[str, Any] = {}
    for part in parts:
        items = EMBEDDED[part].model
        about = EMBEDDED[part].description
        fields[part] = (list[items],  # type: ignore[valid-type]
                        Field(description=about) if required
                        else Field(default=None, description=about))
    model: type[BaseModel] = create_model(name, __base__=OpportunityRead, **fields)
    return model


# The documented shape of a read with `expand=`: every part there may be.
OpportunityExpandedRead = _with_parts("OpportunityExpandedRead", tuple(EMBEDDED),
                                      required=False)
OpportunityExpandedPage: type[BaseModel] = PageOf[OpportunityExpandedRead]  # type: ignore[valid-type]


@cache
def expanded_json(parts: tuple[str, ...]) -> tuple[JsonBody, JsonBody]:
    """The JSON of an opportunity, and of a page of them, with these parts."""
    model = _with_parts("OpportunityWith" + "".join(p.title() for p in parts), parts,
                        required=True)
    return JsonBody(model), JsonBody(PageOf[model])  # type: ignore[valid-type]


def expanded_values(o: Opportunity, parts: dict[str, dict[int, list[Any]]]) -> dict[str, Any]:
    """`OpportunityRead.values_of`, and each part's items (`parts` by part, then by
    opportunity id) in EMBEDDED's order."""
    values = OpportunityRead.values_of(o)
    for part, found in parts.items():
        values[part] = [EMBEDDED[part].values_of(item) for item in found[o.id]]
    return values


class WarningRead(BaseModel):
    code: str
    message: str
    total: Decimal2

    @classmethod
    def of(cls, warning: ShareWarning) -> "WarningRead":
        return cls(code=warning.code, message=warning.message, total=as_percent(warning.total))


class SellersRead(BaseModel):
    model_config = examples.shown("SellersRead")

    sellers: list[SellerRead]
    total_share: Decimal2
    warnings: list[WarningRead]


class SellerCreate(Strict):
    model_config = examples.shown("SellerCreate")

    user_id: Id
    share: PercentIn


class SellerUpdate(Strict):
    share: PercentIn


class HistoryEntry(BaseModel):
    event_id: int
    type: str
    occurred_at: datetime
    actor: dict[str, int | str]
    changes: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, event: StoredEvent) -> "HistoryEntry":
        return cls(event_id=event.id, type=event.type, occurred_at=event.occurred_at,
                   actor=event.actor, changes=event.data.get("changes", {}))


class HistoryPage(BaseModel):
    data: list[HistoryEntry]
    next_cursor: str | None
