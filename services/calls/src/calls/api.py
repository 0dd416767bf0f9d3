"""HTTP routes of the calls service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/calls", tags=["calls"])

ROUTERS = [router]
