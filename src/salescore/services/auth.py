"""Who is calling: passwords checked at login, tokens and API keys turned into a Caller."""

from salescore.domain.access import Caller, Role, scopes_of_role
from salescore.domain.errors import InvalidInput, NotAuthenticated
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.credentials import api_key_hash, password_matches


async def log_in(uow: UnitOfWork, *, email: str, password: str,
                 organization_id: int | None = None) -> tuple[int, int]:
    """(organization id, user id) of the active user with this email and password.

    An email used in several organizations logs in where the password matches; should it
    match in more than one, the request must name the organization (`client_id`)."""
    async with uow:
        candidates = [c for c in await uow.users.logins(email)
                      if organization_id is None or c[0] == organization_id]
    matches = [(org, user) for org, user, hashed in candidates
               if password_matches(hashed, password)]
    if not candidates:
        password_matches(None, password)
    if not matches:
        raise NotAuthenticated("wrong email or password")
    if len(matches) > 1:
        raise InvalidInput.of("client_id", "this login exists in several organizations: "
                                           "give the organization id as client_id")
    return matches[0]


async def user_caller(uow: UnitOfWork, *, organization_id: int, user_id: int) -> Caller:
    """The caller behind a token: the user must still exist and be active; the role is
    read afresh so that a changed role takes effect at once."""
    async with uow:
        role = await uow.users.role_if_active(organization_id, user_id)
    if role is None:
        raise NotAuthenticated("the token's user is no longer active")
    return Caller(organization_id=organization_id, role=role, scopes=scopes_of_role(role),
                  user_id=user_id)


async def api_key_caller(uow: UnitOfWork, *, secret: str) -> Caller:
    """The caller behind an API key that exists and is not revoked."""
    async with uow:
        key = await uow.api_keys.by_secret_hash(api_key_hash(secret))
    if key is None:
        raise NotAuthenticated("unknown or revoked API key")
    return Caller(organization_id=key.organization_id, role=Role.INTEGRATION,
                  scopes=key.scopes, api_key_id=key.id)
