"""The organization's settings."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.deps import CallerDep, UnitOfWorkDep
from salescore.api.routing import Router
from salescore.api.v1.schemas import Flag, NoNul, Patch
from salescore.domain.access.organization import Organization
from salescore.services.activities import settings

router = Router(prefix="/v1/settings", tags=["settings"])
Code = Annotated[str, StringConstraints(min_length=3, max_length=3), NoNul]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]


class SettingsRead(BaseModel):
    base_currency: str = Field(description="Reports convert to this ISO 4217 currency.")
    time_zone: str = Field(description="Dates become times in this IANA zone.")
    loss_reason_required: bool = Field(description="Losing an opportunity needs a reason.")
    reminder_task_enabled: bool = Field(
        description="A new opportunity gets a task reminding its owner to follow it up.")
    reminder_task_days: int = Field(description="Days after creation the reminder is due.")
    stagnant_days: int = Field(description="Default N of the stagnant report: no activity "
                                           "for N days.")

    @classmethod
    def of(cls, organization: Organization) -> "SettingsRead":
        return cls(**{name: getattr(organization, name) for name in cls.model_fields})


class SettingsUpdate(Patch):
    base_currency: Code | None = None
    time_zone: Zone | None = None
    loss_reason_required: Flag | None = None
    reminder_task_enabled: Flag | None = None
    reminder_task_days: Annotated[int, Field(ge=0, le=365)] | None = None
    stagnant_days: Annotated[int, Field(ge=1, le=3650)] | None = None


@router.get("", response_model=SettingsRead)
async def read_settings(caller: CallerDep, uow: UnitOfWorkDep) -> SettingsRead:
    """The organization's settings: base currency, time zone, whether a loss needs a
    reason, the follow-up reminder task and the stagnant report's default days."""
    return SettingsRead.of(await settings.get_settings(uow, caller=caller))


@router.patch("", response_model=SettingsRead)
async def update_settings(body: SettingsUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> SettingsRead:
    """Change the settings given (admins and managers)."""
    organization = await settings.update_settings(uow, caller=caller, values=body.changes())
    return SettingsRead.of(organization)
