"""Settings."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1/settings", tags=["settings"])
