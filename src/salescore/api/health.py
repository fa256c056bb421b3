"""Liveness and readiness."""

from fastapi.responses import JSONResponse

from salescore.api.deps import AppStateDep
from salescore.api.errors import problem, problem_responses
from salescore.api.routing import Router
from salescore.repositories.database import is_reachable

router = Router(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(503))
async def readyz(state: AppStateDep) -> JSONResponse:
    """The database answers too."""
    if not await is_reachable(state.engine):
        return problem(503, "the database does not answer")
    return JSONResponse({"status": "ready"})
