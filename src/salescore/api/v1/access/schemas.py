"""Request and response bodies of logging in, users, departments, sales regions, sales
groups and API keys."""

from datetime import datetime

from pydantic import BaseModel, Field

from salescore.api.v1.schemas import Email, Flag, Id, Initials, Name, Password, Patch, Strict
from salescore.domain.access.organization import ApiKey, GroupType, OrgUnit, User
from salescore.domain.access.permissions import Role, Scope


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
    sales_group_ids: list[Id] = []  # noqa: RUF012 (pydantic copies a default per instance)
    active: Flag = True


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
    active: Flag | None = None


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
