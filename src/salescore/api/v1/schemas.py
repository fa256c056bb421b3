"""Request and response bodies of the platform resources."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from salescore.domain.access.organization import ApiKey, GroupType, OrgUnit, User
from salescore.domain.access.permissions import Role, Scope
from salescore.domain.errors import InvalidInput


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 NoNul]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320),
                  NoNul]
Initials = Annotated[str, StringConstraints(min_length=1, max_length=10), NoNul]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(max_length=10_000), NoNul]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=200), NoNul]
CENT = Decimal("0.01")


def _two_places(value: Decimal) -> str:
    return str(value.quantize(CENT))


_DECIMAL_STRING = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1250.00"]}
# Money, shares and probabilities go out as JSON strings with two decimals ("25.00") ...
Decimal2 = Annotated[Decimal, PlainSerializer(_two_places, return_type=str),
                     WithJsonSchema(_DECIMAL_STRING, mode="serialization")]
# ... and come in as such strings (or JSON numbers) with at most two decimals.
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
PercentIn = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2,
                                     allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patch(Strict):
    """A partial update: only the fields sent change; `null` only where `NULLABLE` says."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True)
        for field, value in values.items():
            if value is None and field not in self.NULLABLE:
                raise InvalidInput.of(field, "cannot be null")
        return values


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeRead(BaseModel):
    organization_id: int
    organization_name: str
    base_currency: str
    role: Role
    scopes: list[Scope]
    user_id: int | None
    api_key_id: int | None
    name: str | None
    email: str | None


class UserCreate(Strict):
    name: Name
    email: Email
    role: Role = Role.SELLER
    password: Password | None = None
    initials: Initials | None = None
    department_id: Id | None = None
    sales_region_id: Id | None = None
    sales_group_ids: list[Id] = []
    active: bool = True


class UserUpdate(Patch):
    NULLABLE = frozenset({"department_id", "sales_region_id"})

    name: Name | None = None
    email: Email | None = None
    role: Role | None = None
    password: Password | None = None
    initials: Initials | None = None
    department_id: Id | None = None
    sales_region_id: Id | None = None
    sales_group_ids: list[Id] | None = None
    active: bool | None = None


class UserRead(BaseModel):
    id: int
    name: str
    initials: str
    email: str
    role: Role
    department_id: int | None
    sales_region_id: int | None
    sales_group_ids: list[int]
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, user: User) -> "UserRead":
        return cls(id=user.id, name=user.name, initials=user.initials, email=user.email,
                   role=user.role, department_id=user.department_id,
                   sales_region_id=user.sales_region_id,
                   sales_group_ids=list(user.sales_group_ids), active=user.active,
                   created_at=user.created_at, updated_at=user.updated_at,
                   version=user.version)


class OrgUnitCreate(Strict):
    name: Name


class OrgUnitUpdate(Patch):
    name: Name | None = None


class SalesGroupCreate(Strict):
    name: Name
    group_type: GroupType = Field(default=GroupType.SALES,
                                  description="`sales` groups count in budgets.")


class SalesGroupUpdate(Patch):
    name: Name | None = None
    group_type: GroupType | None = None


class OrgUnitRead(BaseModel):
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, unit: OrgUnit) -> "OrgUnitRead":
        return cls(id=unit.id, name=unit.name, created_at=unit.created_at,
                   updated_at=unit.updated_at, version=unit.version)


class SalesGroupRead(OrgUnitRead):
    group_type: GroupType

    @classmethod
    def of(cls, unit: OrgUnit) -> "SalesGroupRead":
        return cls(id=unit.id, name=unit.name, group_type=unit.group_type or GroupType.SALES,
                   created_at=unit.created_at, updated_at=unit.updated_at,
                   version=unit.version)


class ApiKeyCreate(Strict):
    name: Name
    scopes: list[Scope] = Field(min_length=1)


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The secret's first characters, to tell keys apart.")
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyRead":
        return cls(id=key.id, name=key.name, prefix=key.prefix, scopes=sorted(key.scopes),
                   created_at=key.created_at, revoked_at=key.revoked_at)


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="The key itself: shown this once, never again.")


class EventRead(BaseModel):
    id: int
    type: str
    aggregate_type: str
    aggregate_id: int
    occurred_at: datetime
    actor: dict[str, int | str]
    data: dict[str, object]


class EventPage(BaseModel):
    data: list[EventRead]
    next_cursor: str = Field(description="Pass as `after` to read on; always given, so a "
                                         "reader can poll from where it stopped.")
    has_more: bool
