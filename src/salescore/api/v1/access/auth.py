"""Getting in: tokens for users, and who the caller is."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form, Request, Response

from salescore.api.deps import AppStateDep, IdentityDep, UnitOfWorkDep
from salescore.api.errors import form_hint, problem_responses
from salescore.api.rate_limits import client_address
from salescore.api.routing import Router
from salescore.api.tokens import issue_token
from salescore.api.v1.access.schemas import MeRead, TokenRead
from salescore.api.v1.schemas import NoNul
from salescore.domain.errors import InvalidInput
from salescore.services.access.auth import Identity
from salescore.services.access.login_throttle import log_in_throttled

router = Router(prefix="/v1", tags=["auth"])
_ME_BODIES_KEPT = 1024
_ME_BODIES: dict[int, tuple[Identity, bytes]] = {}
TOKEN_FORM = (
    "POST /v1/auth/token takes an OAuth2 password form, not a JSON body: send it with "
    "`Content-Type: application/x-www-form-urlencoded` and the fields `username` (the "
    "e-mail) and `password`, plus `client_id` (the organization id) when the e-mail has "
    "logins in several organizations; for example `curl https://HOST/v1/auth/token "
    "-d username=ada@example.com -d password=SECRET -d client_id=1` (curl -d sends a form)")


# First in the router: it is the route called most, and routes are matched in order.
@router.get("/me", response_model=MeRead, responses=problem_responses(401))
async def read_me(identity: IdentityDep) -> Response:
    """The caller: a user or an API key, with organization, role and scopes."""
    # Authentication found all of it (or the caller cache kept it): no further query.
    return Response(_me_body(identity), media_type="application/json")


def _me_body(identity: Identity) -> bytes:
    """The JSON of `MeRead`, rendered once per identity the caller cache hands out (an
    entry is a new Identity whenever anything in it changed)."""
    known = _ME_BODIES.get(id(identity))
    if known is not None and known[0] is identity:
        return known[1]
    caller, organization, user = identity.caller, identity.organization, identity.user
    body = MeRead(
        organization_id=organization.id, organization_name=organization.name,
        base_currency=organization.base_currency, role=caller.role,
        scopes=sorted(caller.scopes), user_id=caller.user_id, api_key_id=caller.api_key_id,
        name=None if user is None else user.name, email=None if user is None else user.email,
    ).model_dump_json().encode()
    if len(_ME_BODIES) >= _ME_BODIES_KEPT:
        del _ME_BODIES[next(iter(_ME_BODIES))]
    _ME_BODIES[id(identity)] = (identity, body)  # holding it keeps its id from reuse
    return body


@router.post("/auth/token", response_model=TokenRead, responses=problem_responses(401, 429))
@form_hint(TOKEN_FORM)
async def create_token(
    request: Request, state: AppStateDep, uow: UnitOfWorkDep,
    username: Annotated[str, NoNul, Form(description="The user's email.", max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    client_id: Annotated[str | None, Form(
        description="The organization id, when the email is in several.")] = None,
) -> TokenRead | Response:
    """OAuth2 password grant: an email and password for a bearer token. Failed logins for
    one email, or from one address, slow further attempts down and then lock them for a
    while: 429 with `Retry-After`, the same whether or not the email exists."""
    organization_id = (int(client_id) if client_id and client_id.isascii()
                       and client_id.isdigit() else None)
    if organization_id is not None and organization_id >= 2**63:
        raise InvalidInput.of("client_id", "is out of range")
    address = client_address(request.scope, state.settings.trusted_proxy_networks())
    org, user = await log_in_throttled(uow, throttle=state.logins, address=address,
                                       email=username, password=password,
                                       organization_id=organization_id)
    token = issue_token(state.tokens, organization_id=org, user_id=user, now=datetime.now(UTC))
    return TokenRead(access_token=token, expires_in=int(state.tokens.ttl.total_seconds()))
