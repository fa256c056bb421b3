"""Dependencies every route shares: the unit of work, the caller, `If-Match`; and how
webhook endpoints' hosts are resolved (when saved, and for a test message)."""

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from salescore.api.state import AppState
from salescore.api.tokens import read_token
from salescore.domain.access.permissions import Caller
from salescore.domain.errors import NotAuthenticated
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.auth import Identity, api_key_identity, user_identity
from salescore.services.access.caller_cache import credential_key
from salescore.services.access.credentials import is_api_key
from salescore.services.integrations.guard import Resolver, system_resolver


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.salescore
    return state


AppStateDep = Annotated[AppState, Depends(app_state)]


async def unit_of_work(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.salescore.sessions)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


SEND_BEARER = "send `Authorization: Bearer <token or API key>`"
NO_CREDENTIAL = ("no credentials: send `Authorization: Bearer <token>` with a token from "
                 "POST /v1/auth/token (an OAuth2 password form: username, password), or "
                 "`Authorization: Bearer <API key>`")


def bearer_credential(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer …` header. A refusal says what to send
    instead, never echoing what was sent (a misplaced secret stays out of the answer)."""
    scheme, space, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer":
        if token:
            return token
        raise NotAuthenticated(f"the bearer credential is empty: {SEND_BEARER}")
    if not authorization or not authorization.strip():
        raise NotAuthenticated(NO_CREDENTIAL)
    if not space:
        raise NotAuthenticated(f"the Authorization header names no scheme: {SEND_BEARER}")
    raise NotAuthenticated(f"the Authorization scheme must be Bearer: {SEND_BEARER}")


async def identify(state: AppState, authorization: str | None) -> Identity:
    """Who a bearer credential stands for: an API key or a user's token.

    The caller cache answers first, keyed by the SHA-256 of the credential, so that a
    known one costs no database round trip and no signature check (the token is the very
    string whose signature, `iss`, `aud`, `iat` and `sub` were checked when it was kept,
    and its entry ends by its `exp`). Else one statement finds the caller, its
    organization and user; see services/access/caller_cache.py for when entries are forgotten."""
    token = bearer_credential(authorization)
    key = credential_key(token)
    cache = state.callers
    found = cache.get(key)
    if found is not None:
        return found
    ticket = cache.ticket()
    uow = UnitOfWork(state.reads)
    if is_api_key(token):
        identity = await api_key_identity(uow, secret_hash=key)
        cache.put(key, identity, ticket=ticket)
        return identity
    claims = read_token(state.tokens, token)
    identity = await user_identity(uow, organization_id=claims.organization_id,
                                   user_id=claims.user_id)
    cache.put(key, identity, ticket=ticket, not_after=claims.expires_at)
    return identity


async def authenticate(state: AppState, authorization: str | None) -> Caller:
    """The caller a bearer credential stands for."""
    return (await identify(state, authorization)).caller


class BearerAuth(SecurityBase):
    """`Authorization: Bearer <JWT or API key>`, resolved in one dependency that is also
    the `HTTPBearer` security scheme of the spec. FastAPI's cost per request grows with
    each dependency it solves, and this one runs on nearly every request."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(bearerFormat="JWT or API key",
                                     description="A token from POST /v1/auth/token, "
                                                 "or an API key.")
        self.scheme_name = "HTTPBearer"


class CallerAuth(BearerAuth):
    async def __call__(self, request: Request) -> Caller:
        """The caller, kept in the request's state (`request.state.caller`): the
        Idempotency middleware may have found it already. Read from the ASGI state dict
        itself, as `request.state` would, without making a `State` around it and raising
        AttributeError inside `getattr` on every request that has none yet."""
        state: dict[str, object] = request.scope.setdefault("state", {})
        known = state.get("caller")
        if isinstance(known, Caller):
            return known
        caller = await authenticate(request.app.state.salescore,
                                    request.headers.get("authorization"))
        state["caller"] = caller
        return caller


class IdentityAuth(BearerAuth):
    async def __call__(self, request: Request) -> Identity:
        return await identify(request.app.state.salescore,
                              request.headers.get("authorization"))


IdentityDep = Annotated[Identity, Depends(IdentityAuth())]
CallerDep = Annotated[Caller, Depends(CallerAuth())]


async def expected_version(
    if_match: Annotated[str | None, Header(
        description='The ETag read before (`"3"`); a stale one gets 412.')] = None,
) -> int | None:
    """The version `If-Match` names: `"3"`, `W/"3"` or `*` (any). A tag naming no version
    matches none (0: versions start at 1), so that the write is 412 only once the rest of
    the request is found valid, never in place of its 422."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isascii() and tag.isdigit() else 0


IfMatchDep = Annotated[int | None, Depends(expected_version)]


def etag(version: int) -> str:
    return f'"{version}"'


async def webhook_resolver() -> Resolver:
    """How webhook endpoints' hosts are resolved (tests override it)."""
    return system_resolver


ResolverDep = Annotated[Resolver, Depends(webhook_resolver)]
