"""Lists."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1/lists", tags=["lists"])
