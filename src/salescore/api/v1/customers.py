"""Customers."""

from fastapi import APIRouter

router = APIRouter(tags=["customers"])
