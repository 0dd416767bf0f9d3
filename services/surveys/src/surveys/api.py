"""HTTP routes of the surveys service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/surveys", tags=["surveys"])

ROUTERS = [router]
