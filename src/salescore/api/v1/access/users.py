"""Employees."""

from typing import Annotated

from fastapi import Depends, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.access.schemas import UserCreate, UserRead, UserUpdate
from salescore.api.v1.schemas import Id
from salescore.domain.access.permissions import Role
from salescore.services.access import users

router = Router(prefix="/v1/users", tags=["users"])
UserList = Annotated[ListRequest, Depends(list_parameters("users", [
    Filter("id", int, ranges=True), Filter("name", str, pattern=True),
    Filter("email", str, pattern=True), Filter("role", Role), Filter("active", bool),
    Filter("department_id", int), Filter("sales_region_id", int),
], sorts=("id", "name", "email", "created_at", "updated_at")))]


@router.get("", response_model=PageOf[UserRead])
async def list_users(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                     request: UserList) -> Response:
    """The organization's employees, a page at a time; deactivated users are listed too
    (filter with `active=true`)."""
    page = await users.list_users(uow, caller=caller, query=request.query)
    return page_response(state, request, page, UserRead.of)


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(404, 409))
async def create_user(body: UserCreate, caller: CallerDep, uow: UnitOfWorkDep,
                      response: Response) -> UserRead:
    """A new employee who can log in with `email` and `password` (needs `users:write`).
    An e-mail another user of the organization has is a conflict (409)."""
    user = await users.create_user(uow, caller=caller, **body.model_dump())
    response.headers["ETag"] = etag(user.version)
    response.headers["Location"] = f"/v1/users/{user.id}"
    return UserRead.of(user)


@router.get("/{user_id}", response_model=UserRead, responses=problem_responses(404))
async def read_user(user_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                    response: Response) -> UserRead:
    """One employee (never the password), and the ETag for a later `If-Match`."""
    user = await users.get_user(uow, caller=caller, user_id=user_id)
    response.headers["ETag"] = etag(user.version)
    return UserRead.of(user)


@router.patch("/{user_id}", response_model=UserRead,
              responses=problem_responses(404, 409, 412))
async def update_user(user_id: Id, body: UserUpdate, caller: CallerDep, uow: UnitOfWorkDep,
                      if_match: IfMatchDep, response: Response) -> UserRead:
    """Change the fields given; `null` clears a department or region."""
    user = await users.update_user(uow, caller=caller, user_id=user_id,
                                   changes_=body.changes(),
                                   if_match=if_match)
    response.headers["ETag"] = etag(user.version)
    return UserRead.of(user)
