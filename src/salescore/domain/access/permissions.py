"""Who may do what: roles, scopes and the caller of a use case.

Users get the scopes of their role; API keys (role `integration`) get the scopes they were
created with. Admins hold every scope; managers every one but administering users and keys;
sellers read everything and write the sales records (ownership is checked per record).
`sales_setup:write` (sales processes, configuration lists, campaigns, quote templates) is
held by admins and managers, who run the sales process; sellers work within it. Sellers
write quotes but not the product catalogue (`products:write`) or ERP orders
(`orders:write`); the e-signature providers (`integrations:*`) are the admins' alone. Bulk imports
(`imports:*`) are for admins, managers and the keys given them; a seller may send a lead
(`leads:write`), which only ever adds records."""

from dataclasses import dataclass
from enum import StrEnum

from salescore.domain.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SELLER = "seller"
    INTEGRATION = "integration"


class Scope(StrEnum):
    ORGANIZATION_READ = "organization:read"
    ORGANIZATION_WRITE = "organization:write"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    API_KEYS_WRITE = "api_keys:write"
    EVENTS_READ = "events:read"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    OPPORTUNITIES_READ = "opportunities:read"
    OPPORTUNITIES_WRITE = "opportunities:write"
    ACTIVITIES_READ = "activities:read"
    ACTIVITIES_WRITE = "activities:write"
    REPORTS_READ = "reports:read"
    SALES_SETUP_WRITE = "sales_setup:write"
    PRODUCTS_READ = "products:read"
    PRODUCTS_WRITE = "products:write"
    QUOTES_READ = "quotes:read"
    QUOTES_WRITE = "quotes:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_WRITE = "integrations:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    IMPORTS_READ = "imports:read"
    IMPORTS_WRITE = "imports:write"
    LEADS_WRITE = "leads:write"


ALL_SCOPES = frozenset(Scope)
_INTEGRATIONS = frozenset({Scope.INTEGRATIONS_READ, Scope.INTEGRATIONS_WRITE,
                           Scope.WEBHOOKS_READ, Scope.WEBHOOKS_WRITE})
_READS = frozenset(s for s in Scope if s.endswith(":read")) - _INTEGRATIONS - {Scope.IMPORTS_READ}
_ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: ALL_SCOPES,
    Role.MANAGER: ALL_SCOPES - _INTEGRATIONS
    - {Scope.USERS_WRITE, Scope.API_KEYS_WRITE, Scope.ORGANIZATION_WRITE},
    Role.SELLER: _READS
    | {Scope.CUSTOMERS_WRITE, Scope.OPPORTUNITIES_WRITE, Scope.ACTIVITIES_WRITE,
       Scope.QUOTES_WRITE, Scope.LEADS_WRITE},
}
USER_ROLES = (Role.ADMIN, Role.MANAGER, Role.SELLER)


def scopes_of_role(role: Role) -> frozenset[Scope]:
    """The scopes a user of `role` holds; an integration's come from its API key."""
    return _ROLE_SCOPES.get(role, frozenset())


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: a user (with `user_id`), an API key (with `api_key_id`), or someone
    outside the organization that a credential of its own lets act on one record
    (`outsider`: a customer signing through a quote's link, an e-signature provider)."""

    organization_id: int
    role: Role
    scopes: frozenset[Scope]
    user_id: int | None = None
    api_key_id: int | None = None
    outsider: tuple[str, int] | None = None

    @property
    def actor(self) -> dict[str, int | str]:
        """How the event log names this caller."""
        if self.user_id is not None:
            return {"type": "user", "id": self.user_id}
        if self.outsider is not None:
            return {"type": self.outsider[0], "id": self.outsider[1]}
        return {"type": "api_key", "id": self.api_key_id or 0}


def require(caller: Caller, scope: Scope) -> None:
    """Refuse unless the caller holds `scope`."""
    if scope not in caller.scopes:
        raise Forbidden(f"this action needs the scope {scope.value}")
