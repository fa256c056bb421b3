"""Dependencies every route shares: the unit of work, the caller, `If-Match`."""

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from salescore.api.state import AppState
from salescore.api.tokens import read_token
from salescore.domain.access import Caller
from salescore.domain.errors import NotAuthenticated, PreconditionFailed
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.auth import api_key_caller, user_caller
from salescore.services.credentials import is_api_key

bearer = HTTPBearer(auto_error=False, bearerFormat="JWT or API key",
                    description="A token from POST /v1/auth/token, or an API key.")


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.salescore
    return state


AppStateDep = Annotated[AppState, Depends(app_state)]


async def unit_of_work(state: AppStateDep) -> UnitOfWork:
    return UnitOfWork(state.sessions)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


async def authenticate(state: AppState, authorization: str | None) -> Caller:
    """The caller a bearer credential stands for: an API key or a user's token."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("a bearer token or API key is required")
    token = token.strip()
    uow = UnitOfWork(state.sessions)
    if is_api_key(token):
        return await api_key_caller(uow, secret=token)
    claims = read_token(state.tokens, token)
    return await user_caller(uow, organization_id=claims.organization_id,
                             user_id=claims.user_id)


async def current_caller(request: Request, state: AppStateDep,
                         _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                         ) -> Caller:
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    caller = await authenticate(state, request.headers.get("authorization"))
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def expected_version(
    if_match: Annotated[str | None, Header(
        description='The ETag read before (`"3"`); a stale one gets 412.')] = None,
) -> int | None:
    """The version `If-Match` names: `"3"`, `W/"3"` or `*` (any)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed("If-Match does not name a version of this record")
    return int(tag)


IfMatchDep = Annotated[int | None, Depends(expected_version)]


def etag(version: int) -> str:
    return f'"{version}"'
