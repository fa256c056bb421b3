"""Sales processes."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1/sales-processes", tags=["sales processes"])
