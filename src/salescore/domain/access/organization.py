"""The tenant and its people: organizations, users, departments, sales regions, sales groups
and API keys."""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from salescore.domain.access.permissions import Role, Scope
from salescore.domain.currencies import ISO_4217
from salescore.domain.errors import Conflict, InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    name: str
    base_currency: str
    time_zone: str
    created_at: datetime
    loss_reason_required: bool = False
    reminder_task_enabled: bool = True
    reminder_task_days: int = 1
    stagnant_days: int = 30


@dataclass(frozen=True, slots=True)
class User:
    id: int
    organization_id: int
    name: str
    initials: str
    email: str
    role: Role
    department_id: int | None
    sales_region_id: int | None
    sales_group_ids: tuple[int, ...]
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    SALES_REGION = "sales_region"
    SALES_GROUP = "sales_group"


class GroupType(StrEnum):
    SALES = "sales"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """A department, sales region or sales group; only groups have a `group_type`."""

    id: int
    organization_id: int
    kind: UnitKind
    name: str
    group_type: GroupType | None
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    organization_id: int
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None


def check_currency(code: str, field: str = "currency") -> str:
    """A currency is an ISO 4217 code in circulation, in capitals (NOK, SEK, EUR)."""
    if code not in ISO_4217:
        raise InvalidInput.of(field, "must be an ISO 4217 code such as NOK")
    return code


def check_time_zone(name: str, field: str = "time_zone") -> str:
    """A time zone is an IANA name such as Europe/Oslo."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.of(field, "must be an IANA time zone such as Europe/Oslo") from None
    return name


def check_email(email: str, field: str = "email") -> str:
    """Emails are kept as given but must look like one; they compare case-insensitively."""
    if not _EMAIL.match(email):
        raise InvalidInput.of(field, "is not an email address")
    return email


class SharedEmail(Conflict):
    """A new organization's admin was given the e-mail of a user of another organization."""


def check_admin_email_free(email: str, *, used_elsewhere: bool) -> None:
    """A new organization's first admin takes an e-mail that no user of another organization
    has, unless whoever creates it asks to share it: an e-mail in several organizations
    must name the organization to log in wherever its password is the same in more than
    one."""
    if used_elsewhere:
        raise SharedEmail(f"{email} is already the e-mail of a user of another organization")


def initials_of(name: str) -> str:
    """Initials default to the first letter of each part of the name, at most four."""
    return "".join(part[0] for part in name.split())[:4].upper()


def check_user_role(role: Role) -> Role:
    """Users are admins, managers or sellers; `integration` belongs to API keys."""
    if role is Role.INTEGRATION:
        raise InvalidInput.of("role", "must be admin, manager or seller")
    return role
