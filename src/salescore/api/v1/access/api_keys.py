"""API keys for integrations (admins only)."""

from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.access.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from salescore.api.v1.schemas import Id
from salescore.services.access import api_keys

router = Router(prefix="/v1/api-keys", tags=["api keys"])
KeyList = Annotated[ListRequest, Depends(list_parameters("api-keys", [
    Filter("id", int, ranges=True), Filter("name", str, pattern=True),
], sorts=("id", "name", "created_at")))]


@router.get("", response_model=PageOf[ApiKeyRead])
async def list_api_keys(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                        request: KeyList) -> Response:
    """The organization's API keys, revoked ones included (`revoked_at` set); never the
    secrets, only their first characters (`prefix`)."""
    page = await api_keys.list_api_keys(uow, caller=caller, query=request.query)
    return page_response(state, request, page, ApiKeyRead.of)


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreate, caller: CallerDep,
                         uow: UnitOfWorkDep) -> ApiKeyCreated:
    """A new key; the answer's `secret` is shown this once."""
    key, secret = await api_keys.create_api_key(uow, caller=caller, name=body.name,
                                                scopes=body.scopes)
    return ApiKeyCreated(**ApiKeyRead.of(key).model_dump(), secret=secret)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404))
async def revoke_api_key(key_id: Id, caller: CallerDep, uow: UnitOfWorkDep) -> None:
    """Revoke the key: it stops working at once."""
    await api_keys.revoke_api_key(uow, caller=caller, key_id=key_id)
