"""Request and response bodies of sales processes and their stages."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.exports import Cell
from salescore.api.v1.schemas import (
    Decimal2,
    Flag,
    Id,
    Name,
    NoNul,
    Patch,
    PercentIn,
    Strict,
    Text,
)
from salescore.domain.sales.processes import (
    MAX_STAGES,
    DefaultFor,
    SalesProcess,
    Stage,
    StageDraft,
    StageKind,
)

Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"), NoNul,
                  Field(description="An HTML colour, `#RRGGBB`.", examples=["#2E7D32"])]
Probability = Annotated[PercentIn, Field(description="The default probability, 0 to 100 with "
                                                     "at most two decimals.")]
QUOTE_MARK = ("The stage a signed quote moves the opportunity to; at most one per process, "
              "so marking another stage moves the mark.")


class DefaultForBody(Strict):
    """Whom the process is the default for; ids must be the organization's."""

    all: Flag = False
    user_ids: list[Id] = Field(default_factory=list)
    department_ids: list[Id] = Field(default_factory=list)
    sales_region_ids: list[Id] = Field(default_factory=list)

    def to_domain(self) -> DefaultFor:
        return DefaultFor(all=self.all, user_ids=tuple(dict.fromkeys(self.user_ids)),
                          department_ids=tuple(dict.fromkeys(self.department_ids)),
                          sales_region_ids=tuple(dict.fromkeys(self.sales_region_ids)))

    @classmethod
    def of(cls, targets: DefaultFor) -> "DefaultForBody":
        return cls(all=targets.all, user_ids=list(targets.user_ids),
                   department_ids=list(targets.department_ids),
                   sales_region_ids=list(targets.sales_region_ids))


class StageBody(Strict):
    name: Name
    probability: Probability
    kind: StageKind = StageKind.OPEN
    color: Color | None = None
    marks_quote_signed: Flag = Field(default=False, description=QUOTE_MARK)

    def to_domain(self) -> StageDraft:
        return StageDraft(name=self.name, probability=self.probability, kind=self.kind,
                          color=self.color, marks_quote_signed=self.marks_quote_signed)


class StageCreate(StageBody):
    position: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        default=None, description="1 for first; the stages from there move one down. "
                                  "Default: last.")


class StageUpdate(Patch):
    NULLABLE = frozenset({"color"})

    name: Name | None = None
    probability: Probability | None = None
    kind: StageKind | None = Field(default=None, description="Not while opportunities use "
                                                             "the stage.")
    color: Color | None = None
    marks_quote_signed: Flag | None = Field(default=None, description=QUOTE_MARK)


class StageRead(BaseModel):
    id: int
    sales_process_id: int
    name: str
    position: int
    probability: Decimal2
    kind: StageKind
    color: str | None
    marks_quote_signed: bool
    in_use: int = Field(description="How many opportunities stand on the stage.")

    @classmethod
    def of(cls, stage: Stage) -> "StageRead":
        return cls(id=stage.id, sales_process_id=stage.sales_process_id, name=stage.name,
                   position=stage.position,
                   probability=stage.probability, kind=stage.kind, color=stage.color,
                   marks_quote_signed=stage.marks_quote_signed, in_use=stage.in_use)


class StageList(BaseModel):
    """Every stage of a process, in order (never more than one page)."""

    data: list[StageRead]
    next_cursor: str | None = None

    @classmethod
    def of(cls, process: SalesProcess) -> "StageList":
        return cls(data=[StageRead.of(s) for s in process.stages])


class StageOrder(Strict):
    stage_ids: list[Id] = Field(description="Every stage of the process, once, in the new "
                                            "order.")


class SalesProcessCreate(Strict):
    name: Name
    active: Flag = True
    note: Text | None = None
    default_for: DefaultForBody = DefaultForBody()
    stages: list[StageBody] = Field(min_length=1, max_length=MAX_STAGES, description=(
        "In order; at least one `open` stage, at most one marking a signed quote."))


class SalesProcessUpdate(Patch):
    NULLABLE = frozenset({"note"})

    name: Name | None = None
    active: Flag | None = Field(default=None, description="An inactive process receives no "
                                                          "new opportunities.")
    note: Text | None = None
    default_for: DefaultForBody | None = Field(default=None, description="Replaces the "
                                                                         "targets.")

    def to_changes(self) -> dict[str, object]:
        values = self.changes()
        if self.default_for is not None:
            values["default_for"] = self.default_for.to_domain()
        return values


class SalesProcessRead(BaseModel):
    id: int
    name: str
    active: bool
    note: str | None
    default_for: DefaultForBody
    stages: list[StageRead]
    stage_count: int
    in_use: int = Field(description="How many opportunities use the process.")
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int

    @classmethod
    def of(cls, process: SalesProcess) -> "SalesProcessRead":
        return cls(id=process.id, name=process.name, active=process.active, note=process.note,
                   default_for=DefaultForBody.of(process.default_for),
                   stages=[StageRead.of(s) for s in process.stages],
                   stage_count=process.stage_count, in_use=process.in_use,
                   created_at=process.created_at, created_by=process.created_by,
                   updated_at=process.updated_at, updated_by=process.updated_by,
                   version=process.version)


EXPORT_COLUMNS = ("id", "name", "active", "note", "stages", "stage_count", "in_use",
                  "default_for_all", "default_user_ids", "default_department_ids",
                  "default_sales_region_ids", "created_at", "created_by", "updated_at",
                  "updated_by")


def export_row(process: SalesProcess) -> tuple[Cell, ...]:
    """One process as a row of an export: its stages by name, in order."""
    d = process.default_for

    def ids(values: tuple[int, ...]) -> str:
        return " ".join(str(v) for v in values)

    return (process.id, process.name, process.active, process.note,
            " > ".join(s.name for s in process.stages), process.stage_count, process.in_use,
            d.all, ids(d.user_ids), ids(d.department_ids), ids(d.sales_region_ids),
            process.created_at, process.created_by, process.updated_at, process.updated_by)
