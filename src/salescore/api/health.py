"""Liveness and readiness."""

from fastapi.responses import JSONResponse

from salescore.api.deps import AppStateDep
from salescore.api.errors import problem, problem_responses
from salescore.api.routing import Router
from salescore.repositories.database import is_reachable

router = Router(tags=["health"])


@router.get("/healthz")
async def check_liveness() -> dict[str, str]:
    """Answers `{"status": "ok"}` while the process runs; no credential, no database
    call, no rate limit: for a liveness probe."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(503))
async def check_readiness(state: AppStateDep) -> JSONResponse:
    """Answers `{"status": "ready"}` when the database answers too, else 503: for a
    readiness probe (take the instance out of rotation, do not restart it)."""
    if not await is_reachable(state.engine):
        return problem(503, "the database does not answer")
    return JSONResponse({"status": "ready"})
