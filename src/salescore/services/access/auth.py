"""Who is calling: passwords checked at login, tokens and API keys turned into a Caller."""

from dataclasses import dataclass

from salescore.domain.access.organization import Organization, User
from salescore.domain.access.permissions import Caller, Role, scopes_of_role
from salescore.domain.errors import InvalidInput, NotAuthenticated
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.credentials import password_matches


async def log_in(uow: UnitOfWork, *, email: str, password: str,
                 organization_id: int | None = None) -> tuple[int, int]:
    """(organization id, user id) of the active user with this email and password.

    An email used in several organizations logs in where the password matches; should it
    match in more than one, the request must name the organization (`client_id`)."""
    async with uow:
        candidates = [c for c in await uow.users.logins(email)
                      if organization_id is None or c[0] == organization_id]
    matches = [(org, user) for org, user, hashed in candidates
               if await password_matches(hashed, password)]
    if not candidates:
        await password_matches(None, password)
    if not matches:
        raise NotAuthenticated("wrong email or password")
    if len(matches) > 1:
        ids = ", ".join(str(org) for org, _ in sorted(matches))
        raise InvalidInput.of("client_id", "this e-mail and password log in to several "
                                           f"organizations ({ids}): pass client_id=<the "
                                           "organization id> in the form to pick one")
    return matches[0]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling, as `GET /v1/me` describes them: the caller, its organization, and
    its user record unless the caller is an API key. It may come from the caller cache:
    what a use case decides by (settings, memberships) it reads in its own transaction."""

    caller: Caller
    organization: Organization
    user: User | None = None


async def user_identity(uow: UnitOfWork, *, organization_id: int, user_id: int) -> Identity:
    """The caller behind a token: the user must still exist and be active, and the role
    is the user's current one, so that a deactivation or a changed role takes effect at
    once (a cached identity is forgotten on either: services/access/caller_cache.py). One
    statement, the organization read with the user."""
    async with uow:
        found = await uow.users.active_with_organization(organization_id, user_id)
    if found is None:
        raise NotAuthenticated("the token's user is no longer active")
    organization, user = found
    caller = Caller(organization_id=organization_id, role=user.role,
                    scopes=scopes_of_role(user.role), user_id=user_id)
    return Identity(caller, organization, user)


async def api_key_identity(uow: UnitOfWork, *, secret_hash: bytes) -> Identity:
    """The caller behind an API key that exists and is not revoked. One statement."""
    async with uow:
        found = await uow.api_keys.live_with_organization(secret_hash)
    if found is None:
        raise NotAuthenticated("unknown or revoked API key")
    organization, key = found
    caller = Caller(organization_id=key.organization_id, role=Role.INTEGRATION,
                    scopes=key.scopes, api_key_id=key.id)
    return Identity(caller, organization)
